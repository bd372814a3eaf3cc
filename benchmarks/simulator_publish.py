"""Simulator publish rate: readings/s of `backfill` into a real broker, per Kafka client, side by side.

    python -m benchmarks.simulator_publish --days 1 --machines 10

Starts an embedded broker on free ports in a temporary directory (or uses --bootstrap), then measures in one
run: generating and encoding only (no broker), `backfill` with kafka-python, and `backfill` with
confluent-kafka, each over the same simulated range. Prints rates and ratios; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from powercast.config import Settings
from powercast.simulator.publish import backfill, generate_events
from powercast.stack.kafka import KafkaBroker
from powercast.stack.process import free_port
from powercast.stream.topics import ensure_topics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=1.0)
    parser.add_argument("--machines", type=int, default=10)
    parser.add_argument("--bootstrap", help="use this broker instead of starting one")
    args = parser.parse_args()
    end = datetime(2026, 11, 25, tzinfo=UTC)
    start = end - timedelta(days=args.days)

    t, cpu = time.perf_counter(), time.process_time()
    generated = sum(1 for _ in generate_events(args.machines, start, end, anomaly_rate=0.2))
    generate_rate = generated / (time.perf_counter() - t)
    print(
        f"range: {args.days:g} days x {args.machines} machines = {generated:,} records "
        f"(load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
    )
    print(
        f"generate + encode only      {generate_rate:>10,.0f} records/s  "
        f"({generated / (time.process_time() - cpu):,.0f} per CPU-second of this process)"
    )

    with tempfile.TemporaryDirectory(prefix="powercast-bench-") as tmp:
        broker = None
        if args.bootstrap:
            settings = Settings(_env_file=None, kafka_bootstrap_servers=args.bootstrap)
        else:
            cache = Path(os.environ.get("POWERCAST_CACHE_DIR", Path(".data/cache")))
            settings = Settings(
                _env_file=None,
                data_dir=Path(tmp),
                cache_dir=cache,
                kafka_port=free_port(),
                kafka_controller_port=free_port(),
            )
            broker = KafkaBroker(settings)
            broker.start()
        try:
            ensure_topics(settings.bootstrap_servers)
            rates = {}
            for producer in ("kafka-python", "confluent"):
                cpu = time.process_time()
                stats = backfill(settings, args.machines, start, end, anomaly_rate=0.2, producer=producer)
                cpu = time.process_time() - cpu
                rates[producer] = stats.rate
                print(
                    f"backfill via {producer:<14} {stats.rate:>10,.0f} records/s  ({stats.records:,} in "
                    f"{stats.seconds:.1f} s, all acknowledged; {stats.records / cpu:,.0f} per CPU-second "
                    f"of this process)"
                )
        finally:
            if broker:
                broker.stop()
    print(f"kafka-python / generate-only  {rates['kafka-python'] / generate_rate:.2f}")
    print(f"confluent / kafka-python      {rates['confluent'] / rates['kafka-python']:.2f}")
    print(f"machines sustainable live at 10 s (kafka-python): {rates['kafka-python'] * 10 / 4:,.0f}")


if __name__ == "__main__":
    main()
