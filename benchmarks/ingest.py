"""Ingestor throughput, freshness and memory, with a raw PostgreSQL COPY of the same rows measured side by side.

    python -m benchmarks.ingest [--readings 500000] [--live-machines 1000] [--live-seconds 30]

1. Starts its own embedded Kafka and PostgreSQL on free ports in a temporary directory (or uses
   `--bootstrap` / `--database-url`), applies the migrations and creates a fresh topic.
2. Starts `powercast ingest` as a subprocess on that topic, publishes `--readings` pre-encoded reading events
   (a fleet 10 s apart, in the past) with a confluent-kafka producer and reports the publish rate, then the
   end-to-end rate: readings from the first produce to the last row committed (the ingestor's `written`
   counter, read from its /metrics endpoint, which moves only after the database commit).
3. Keeps the ingestor running while `--live-machines` machines publish their four sensors every 10 s in real
   time (each machine at its own phase in the interval) for `--live-seconds`; freshness is a row's
   `ingested_at` (the ingest transaction's time) minus the event's `ts`, p50/p99.
4. Stops the ingestor (SIGTERM) and reads its peak RSS (VmHWM).
5. COPYs the same rows in one transaction into `readings` itself (the same table: its daily partitions and the
   trigger that keeps `latest_readings`; the rows a day later, and two days later, so they are new) just before
   and just after the end-to-end run, and into a plain table with the same columns, primary key and indexes (the
   physical limit of this machine). Prints the end-to-end rate as a ratio to each, and the CPU seconds the
   publisher, the broker, the ingestor and PostgreSQL used during the end-to-end run.

Targets (2 cores): >= 25,000 readings/s end to end, >= 0.5 of raw COPY into `readings`, peak RSS < 500 MB,
p99 freshness < 2 s.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SENSORS = ("temperature", "vibration", "pressure", "power")
TARGETS = {"rate": 25_000, "ratio": 0.5, "rss_mb": 500, "p99_s": 2.0}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=500_000, help="readings published for the throughput run")
    parser.add_argument("--live-machines", type=int, default=1000, help="fleet size of the freshness run")
    parser.add_argument("--live-seconds", type=float, default=30.0, help="length of the freshness run (0 skips it)")
    parser.add_argument("--partitions", type=int, default=6, help="partitions of the benchmark topic")
    parser.add_argument("--batch-size", type=int, default=10_000, help="ingestor --batch-size")
    parser.add_argument("--batch-ms", type=int, default=500, help="ingestor --batch-ms")
    parser.add_argument("--compression", default="none", help="producer compression.type (none, lz4, zstd, ...)")
    parser.add_argument(
        "--compare-clients",
        action="store_true",
        help="also time a bare consume of the topic with confluent-kafka and with kafka-python",
    )
    parser.add_argument("--bootstrap", help="an existing Kafka (default: start an embedded broker)")
    parser.add_argument("--database-url", help="an existing, migrated PostgreSQL (default: start an embedded one)")
    return parser.parse_args()


# the stack ------------------------------------------------------------------------------------------------
def start_stack(args, stack: ExitStack) -> tuple[str, str]:
    """Bootstrap servers and database URL: the given ones, or embedded servers that stop with `stack`."""
    from powercast.config import Settings
    from powercast.db.migrate import migrate
    from powercast.stack.kafka import KafkaBroker
    from powercast.stack.postgres import EmbeddedPostgres
    from powercast.stack.process import free_port

    data_dir = Path(tempfile.mkdtemp(prefix="powercast-bench-"))
    stack.callback(shutil.rmtree, data_dir, True)
    cache = os.environ.get("POWERCAST_CACHE_DIR", str(REPO / ".data" / "cache"))
    settings = Settings(
        _env_file=None,
        data_dir=data_dir,
        cache_dir=cache,
        kafka_port=free_port(),
        kafka_controller_port=free_port(),
        postgres_port=free_port(),
        database_url=args.database_url,
        kafka_bootstrap_servers=args.bootstrap,
    )
    if args.database_url is None:
        server = EmbeddedPostgres(settings)
        server.start()
        stack.callback(server.stop)
    migrate(settings.app_database_url)
    if args.bootstrap is None:
        broker = KafkaBroker(settings)
        broker.start()
        stack.callback(broker.stop)
    return settings.bootstrap_servers, settings.app_database_url


def connect(url: str):
    from powercast.db.connection import connect as pc_connect

    conn = pc_connect(url)
    conn.autocommit = True
    return conn


# the ingestor under test ----------------------------------------------------------------------------------
def start_ingestor(args, bootstrap: str, url: str, topic: str, log_path: Path, stack: ExitStack):
    """`powercast ingest` on `topic`, returned once it holds the topic's partitions, with its /metrics URL."""
    from powercast.stack.process import free_port

    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "POWERCAST_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")])),
    }
    cmd = [
        sys.executable,
        "-m",
        "powercast",
        "ingest",
        "--topic",
        topic,
        "--dlq-topic",
        f"{topic}.dlq",
        "--group",
        f"bench-{topic}",
        "--batch-size",
        str(args.batch_size),
        "--batch-ms",
        str(args.batch_ms),
        "--metrics-port",
        str(port),
        "--summary-every",
        "5",
    ]
    log = open(log_path, "wb")
    stack.callback(log.close)
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=log_path.parent)
    stack.callback(lambda: proc.poll() is None and proc.kill())
    deadline = time.monotonic() + 120
    while b"assigned " not in log_path.read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the ingestor did not join its group; see {log_path}:\n{log_path.read_text()[-2000:]}")
        time.sleep(0.1)
    return proc, f"http://127.0.0.1:{port}/metrics"


def written(metrics_url: str) -> int:
    with urllib.request.urlopen(metrics_url, timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith("powercast_ingest_written_total "):
                return int(float(line.split()[1]))
    raise RuntimeError("no written counter in /metrics")


def wait_written(metrics_url: str, target: int, proc, timeout: float = 600.0) -> float:
    """Poll the ingestor's counter until `target` rows are committed; returns the time it was seen."""
    deadline = time.monotonic() + timeout
    while True:
        if written(metrics_url) >= target:
            return time.perf_counter()
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the ingestor stopped or stalled before writing {target} rows")
        time.sleep(0.05)


def cpu_seconds(ingestor_pid: int) -> dict[str, float]:
    """User + system CPU seconds so far of each part on this machine: this process (the publisher), the
    ingestor, the Kafka broker (a JVM running kafka) and PostgreSQL (every postgres process)."""
    import psutil

    used = dict.fromkeys(("publisher", "broker", "ingestor", "postgres"), 0.0)
    for process in psutil.process_iter(["pid", "name", "cmdline"]):
        try:
            pid, name, cmdline = process.info["pid"], process.info["name"] or "", process.info["cmdline"] or []
            if pid == os.getpid():
                part = "publisher"
            elif pid == ingestor_pid:
                part = "ingestor"
            elif name == "java" and any("kafka" in arg for arg in cmdline):
                part = "broker"
            elif name == "postgres":
                part = "postgres"
            else:
                continue
            times = process.cpu_times()
            used[part] += times.user + times.system
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return used


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# producing ------------------------------------------------------------------------------------------------
def fleet_payloads(count: int, prefix: str) -> list[tuple[bytes, bytes]]:
    """`count` readings: 5,000 machines × 4 sensors, 10 s apart, ending an hour ago."""
    from powercast.stream.events import encode_event

    machines = min(5000, max(1, count // 4))
    steps = -(-count // (machines * 4))
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1, seconds=10 * steps)
    out = []
    for step in range(steps):
        ts = start + timedelta(seconds=10 * step)
        for m in range(machines):
            machine = f"{prefix}{m:05d}"
            key = machine.encode()
            for i, sensor in enumerate(SENSORS):
                out.append((key, encode_event(machine, sensor, 100.0 + m + step * 0.5 + i, ts)))
                if len(out) == count:
                    return out
    return out


def make_producer(bootstrap: str, linger_ms: int, compression: str):
    from confluent_kafka import Producer

    return Producer(
        {
            "bootstrap.servers": bootstrap,
            "acks": "all",
            "linger.ms": linger_ms,
            "batch.size": 1_000_000,
            "compression.type": compression,
            "queue.buffering.max.messages": 1_000_000,
        }
    )


def publish(producer, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    for key, value in records:
        while True:
            try:
                producer.produce(topic, key=key, value=value)
                break
            except BufferError:
                producer.poll(0.01)
    if producer.flush(120):
        raise SystemExit("the producer could not deliver every record")


def live_fleet(producer, topic: str, prefix: str, machines: int, seconds: float) -> int:
    """Each machine publishes its four sensors every 10 s at its own phase, stamped with the current time."""
    from powercast.stream.events import encode_event

    sent = 0
    start = time.monotonic() + 0.5
    slots = [
        (start + tick * 10 + m * 10 / machines, m) for tick in range(int(seconds // 10) or 1) for m in range(machines)
    ]
    for due, m in slots:
        delay = due - time.monotonic()
        if delay > 0:
            producer.poll(delay)
        ts = datetime.now(UTC)
        machine = f"{prefix}{m:05d}"
        for i, sensor in enumerate(SENSORS):
            producer.produce(topic, key=machine.encode(), value=encode_event(machine, sensor, 100.0 + i, ts))
            sent += 1
    producer.flush(60)
    return sent


def freshness(url: str, prefix: str) -> tuple[float, float, int]:
    with connect(url) as conn, conn.cursor() as cur:
        cur.execute(
            """SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY d), percentile_cont(0.99) WITHIN GROUP
                       (ORDER BY d), count(*) FROM (SELECT extract(epoch FROM ingested_at - ts) AS d FROM readings
                       WHERE machine_id LIKE %s) t""",
            (prefix + "%",),
        )
        p50, p99, n = cur.fetchone()
    return float(p50), float(p99), n


# the physical limit ---------------------------------------------------------------------------------------
COPY_COLUMNS = "(machine_id, sensor, ts, value, unit, event_id)"


def copy_text(
    records: list[tuple[bytes, bytes]], shift: timedelta = timedelta(0), rename: tuple[str, str] = ("", "")
) -> tuple[str, list[datetime]]:
    """The records as COPY text rows, their times moved by `shift`, the machine-id prefix `rename[0]` replaced by
    `rename[1]`; and those times."""
    lines, times = [], []
    old, new = rename
    for _, payload in records:
        e = json.loads(payload)
        ts = datetime.fromisoformat(e["ts"]) + shift
        times.append(ts)
        machine = new + e["machine_id"].removeprefix(old) if old else e["machine_id"]
        lines.append(f"{machine}\t{e['sensor']}\t{ts.isoformat()}\t{e['value']!r}\t{e['unit']}\t{e['event_id']}\n")
    return "".join(lines), times


def timed_copy(conn, table: str, text: str) -> float:
    """Seconds to COPY `text` into `table` and commit, in one transaction."""
    started = time.perf_counter()
    with conn.cursor() as cur:
        cur.copy_expert(f"COPY {table} {COPY_COLUMNS} FROM STDIN", io.StringIO(text), size=1 << 20)
    conn.commit()
    return time.perf_counter() - started


def raw_copy_seconds(url: str, records: list[tuple[bytes, bytes]]) -> float:
    """COPY the same rows, in one transaction, into a fresh plain table with the columns and indexes of readings."""
    text, _ = copy_text(records)
    table = f"raw_copy_{uuid.uuid4().hex[:8]}"
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE TABLE {table} (LIKE readings INCLUDING ALL)")
        conn.commit()
        elapsed = timed_copy(conn, table, text)
        with conn.cursor() as cur:
            cur.execute(f"DROP TABLE {table}")
        conn.commit()
    finally:
        conn.close()
    return elapsed


def readings_copy_seconds(
    url: str, records: list[tuple[bytes, bytes]], rename: tuple[str, str], days_later: int
) -> float:
    """COPY the same rows, `days_later` days later (a partition that has held none), in one transaction into
    `readings` itself: its partitions (created first, untimed) and its `latest_readings` trigger included. Their
    machines are renamed (`rename`, prefixes of one length), so the copy leaves the latest readings of the
    end-to-end run's machines alone and each copy inserts its own. `delete_copies` removes them."""
    from powercast.db.partitions import create_partitions

    text, times = copy_text(records, timedelta(days=days_later), rename)
    conn = connect(url)
    try:
        create_partitions(conn, {ts.astimezone(UTC).date() for ts in times})
        return timed_copy(conn, "readings", text)
    finally:
        conn.close()


def wait_quiet(url: str, timeout: float = 120.0) -> float:
    """Wait until no autovacuum worker runs (the end-to-end run's 500,000 new rows start one on their partition and
    on `latest_readings`), so the reference COPY after it does not share the cores with it. Returns seconds waited."""
    started = time.monotonic()
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            while time.monotonic() - started < timeout:
                cur.execute("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'")
                if cur.fetchone()[0] == 0:
                    break
                time.sleep(0.2)
    finally:
        conn.close()
    return time.monotonic() - started


def delete_copies(url: str, prefixes: list[str]) -> None:
    """Delete the rows `readings_copy_seconds` wrote under these machine prefixes (at the end: not while the
    ingestor is being timed)."""
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            for prefix in prefixes:
                cur.execute("DELETE FROM readings WHERE machine_id LIKE %s", (prefix + "%",))
    finally:
        conn.close()


# client choice -------------------------------------------------------------------------------------------
def bare_consume_rate(client: str, bootstrap: str, topic: str, count: int) -> float:
    """Records/s of a consumer that only reads `count` records (no validation, no database), timed from the
    first record it receives (the group join is not counted)."""
    group = f"bare-{client}-{uuid.uuid4().hex[:6]}"
    if client == "confluent-kafka":
        from confluent_kafka import Consumer

        consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": group,
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
            }
        )
        consumer.subscribe([topic])

        def poll() -> int:
            return sum(1 for m in consumer.consume(num_messages=10_000, timeout=1.0) if m.error() is None)
    else:
        from kafka import KafkaConsumer

        consumer = KafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            group_id=group,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            max_poll_records=10_000,
        )

        def poll() -> int:
            return sum(len(records) for records in consumer.poll(timeout_ms=1000).values())

    seen, started = 0, None
    while seen < count:
        got = poll()
        if got and started is None:
            started = time.perf_counter()
        seen += got
    elapsed = time.perf_counter() - started
    consumer.close()
    return seen / elapsed


def cpu_text(used: dict[str, float], seconds: float) -> str:
    cores = os.cpu_count() or 1
    parts = ", ".join(f"{part} {value:.2f}" for part, value in used.items())
    return f"{parts} (of {cores} cores x {seconds:.2f} s = {cores * seconds:.1f})"


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main() -> None:
    args = parse_args()
    from powercast.stream.topics import ensure_topics

    with ExitStack() as stack:
        print(f"cores: {os.cpu_count()}  load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        bootstrap, url = start_stack(args, stack)
        run = uuid.uuid4().hex[:6]
        topic, prefix, live_prefix = f"bench-{run}", f"B{run}-", f"L{run}-"
        ensure_topics(bootstrap, {topic: args.partitions, f"{topic}.dlq": 1})
        print(f"kafka {bootstrap}  postgres {url.split('@')[-1]}  topic {topic} ({args.partitions} partitions)")

        records = fleet_payloads(args.readings, prefix)
        # The reference is timed just before and just after the end-to-end run, each into a partition that has held
        # nothing and with no autovacuum running, so a change in what else this machine runs moves both sides of the
        # ratio alike.
        wait_quiet(url)
        copy_prefixes = [f"R{run}-", f"S{run}-"]  # the length of `prefix`
        copy_before = readings_copy_seconds(url, records, (prefix, copy_prefixes[0]), days_later=1)
        log_path = Path(tempfile.mkdtemp(prefix="powercast-bench-log-")) / "ingest.log"
        proc, metrics_url = start_ingestor(args, bootstrap, url, topic, log_path, stack)
        producer = make_producer(bootstrap, linger_ms=20, compression=args.compression)

        cpu_before = cpu_seconds(proc.pid)
        first = time.perf_counter()
        publish(producer, topic, records)
        published = time.perf_counter()
        del producer  # flushed: let it go now, not after the broker stopped (its reconnect errors on the console)
        last = wait_written(metrics_url, len(records), proc)
        cpu_used = {part: seconds - cpu_before[part] for part, seconds in cpu_seconds(proc.pid).items()}
        publish_rate = len(records) / (published - first)
        e2e_rate = len(records) / (last - first)
        print(
            f"published {len(records):,} readings in {published - first:.2f} s: {publish_rate:,.0f} readings/s "
            f"(confluent-kafka producer, acks=all, {args.compression})"
        )
        print(f"end to end {len(records):,} readings in {last - first:.2f} s: {e2e_rate:,.0f} readings/s")
        print(f"CPU seconds in that time: {cpu_text(cpu_used, last - first)}")
        quiet_after = wait_quiet(url)
        copy_after = readings_copy_seconds(url, records, (prefix, copy_prefixes[1]), days_later=2)

        p50 = p99 = float("nan")
        if args.live_seconds > 0:
            live = live_fleet(
                make_producer(bootstrap, linger_ms=5, compression=args.compression),
                topic,
                live_prefix,
                args.live_machines,
                args.live_seconds,
            )
            wait_written(metrics_url, len(records) + live, proc)
            p50, p99, n = freshness(url, live_prefix)
            print(
                f"freshness, {args.live_machines} machines live at 10 s for {args.live_seconds:.0f} s "
                f"({n:,} readings): "
                f"p50 {p50:.3f} s  p99 {p99:.3f} s"
            )

        rss = peak_rss_mb(proc.pid)
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        print(f"ingestor peak RSS {rss:.0f} MB; exit code {proc.returncode}; log {log_path}")

        if args.compare_clients:
            for client in ("confluent-kafka", "kafka-python"):
                rate = bare_consume_rate(client, bootstrap, topic, len(records))
                print(f"bare consume with {client}: {rate:,.0f} records/s")

        same_rate = len(records) / ((copy_before + copy_after) / 2)
        raw_rate = len(records) / raw_copy_seconds(url, records)
        delete_copies(url, copy_prefixes)
        ratio = e2e_rate / same_rate
        print(
            f"raw COPY of the same {len(records):,} rows into readings: {same_rate:,.0f} rows/s "
            f"(just before the end-to-end run {len(records) / copy_before:,.0f}, after it and {quiet_after:.1f} s "
            f"of waiting for autovacuum {len(records) / copy_after:,.0f})"
        )
        print(f"raw COPY of the same rows into a plain table (no partitions, no trigger): {raw_rate:,.0f} rows/s")
        print(f"ratio to the plain table's COPY: {e2e_rate / raw_rate:.3f}")
        print()
        print(
            f"end-to-end rate   {e2e_rate:>10,.0f} /s   target >= {TARGETS['rate']:,}   "
            f"{verdict(e2e_rate >= TARGETS['rate'])}"
        )
        print(
            f"ratio to COPY into readings {ratio:>6.3f}  target >= {TARGETS['ratio']}       "
            f"{verdict(ratio >= TARGETS['ratio'])}"
        )
        print(
            f"peak ingestor RSS {rss:>10.0f} MB   target < {TARGETS['rss_mb']}        "
            f"{verdict(rss < TARGETS['rss_mb'])}"
        )
        if args.live_seconds > 0:
            print(
                f"p99 freshness     {p99:>10.3f} s    target < {TARGETS['p99_s']}          "
                f"{verdict(p99 < TARGETS['p99_s'])}"
            )
        else:
            print("p99 freshness       skipped (--live-seconds 0)")


if __name__ == "__main__":
    main()
