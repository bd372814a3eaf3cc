"""The whole local system, in start order: what `powercast up` brings up and `powercast down` stops.

Infrastructure (PostgreSQL, Kafka, MLflow) comes first; then the ingestor; then the simulator, which
backfills history up to now and continues live without a gap; then the feature job, training with
registration, promotion, and the forecasting service that serves the champion.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from powercast.config import Settings
from powercast.db.connection import connect
from powercast.errors import PowercastError
from powercast.stack.services import PythonService, http_ok

# Stop order is the reverse: the simulator stops before the ingestor, so the ingestor drains what was sent.
SERVICES = ("ingest", "simulate", "serve", "dash")


@dataclass(frozen=True)
class UpOptions:
    machines: int = 10
    history_days: float = 14.0
    models: str = "xgb"
    windows: int = 2
    seed: int = 42


def latest_reading(url: str) -> datetime | None:
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT max(ts) FROM readings")
            return cur.fetchone()[0]
    finally:
        conn.close()


def backfill_days(last: datetime | None, options: UpOptions, now: datetime) -> float:
    """Days of history the simulator must publish so that readings reach `now` without a gap."""
    if last is None:
        return options.history_days
    return max(0.0, min(options.history_days, (now - last).total_seconds() / 86400))


def service_definitions(settings: Settings, options: UpOptions, days: float) -> dict[str, PythonService]:
    return {
        "ingest": PythonService(
            "ingest", ["ingest"], ready=lambda: http_ok(f"http://127.0.0.1:{settings.ingest_metrics_port}/metrics")
        ),
        "simulate": PythonService(
            "simulate",
            [
                "simulate",
                "--machines",
                str(options.machines),
                "--seed",
                str(options.seed),
                "--backfill-days",
                f"{days:.6f}",
                "--producer",
                "confluent",
            ],
        ),
        "serve": PythonService(
            "serve", ["serve"], ready=lambda: http_ok(f"http://127.0.0.1:{settings.serving_port}/health")
        ),
        "dash": PythonService("dash", ["dash"], ready=lambda: http_ok(f"http://127.0.0.1:{settings.dash_port}/")),
    }


def wait_for_history(url: str, start: datetime, *, timeout: float) -> None:
    """Wait until readings reach the present, with a progress bar over the backfilled span."""
    from tqdm import tqdm

    target = datetime.now(UTC) - timedelta(seconds=60)
    span = max(1.0, (target - start).total_seconds())
    deadline = time.monotonic() + timeout
    with tqdm(total=100, desc="history", unit="%", bar_format="{l_bar}{bar}| {elapsed}") as bar:
        while time.monotonic() < deadline:
            last = latest_reading(url)
            done = 0.0 if last is None else min(100.0, 100 * (last - start).total_seconds() / span)
            bar.update(max(0.0, done - bar.n))
            if last is not None and last >= target:
                return
            time.sleep(2)
    raise PowercastError(
        "history did not reach the present in time", "see .data/logs/simulate.log and .data/logs/ingest.log"
    )
