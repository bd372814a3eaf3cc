"""Feature pipeline speed, measured side by side in one run (seeded data, a temporary embedded PostgreSQL).

    python -m benchmarks.features [--days 1] [--machines 10]

Prints the feature job's full run against its incremental runs (a few fresh minutes, one late minute, nothing
new) with the ratio, then the batch derivation of derived features, the live per-minute update and the
sliding-window gather.
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
import uuid
from datetime import timedelta

import numpy as np
import pandas as pd

from powercast.config import Settings
from powercast.db.connection import connect
from powercast.db.migrate import migrate
from powercast.features.derive import IncrementalFeatures, derive_features
from powercast.features.job import run_feature_job
from powercast.features.spec import FeatureSpec
from powercast.features.tables import load_minute_frame
from powercast.features.windows import sliding_windows, targets, training_index
from powercast.stack.postgres import EmbeddedPostgres
from powercast.stack.process import free_port

SENSORS = {"power": (1500.0, "W"), "temperature": (60.0, "°C"), "vibration": (2.0, "m/s²"), "pressure": (5.0, "bar")}
T0 = pd.Timestamp("2026-03-02", tz="UTC")


def readings(days: float, machines: int, start: pd.Timestamp, seed: int = 0) -> pd.DataFrame:
    """10-second readings of every sensor, in time order (as the ingestor appends them)."""
    rng = np.random.default_rng(seed)
    n = int(days * 1440 * 6)
    ts = start + pd.to_timedelta(np.arange(n) * 10, unit="s")
    parts = [
        pd.DataFrame(
            {
                "machine_id": f"M-{m:03d}",
                "sensor": sensor,
                "ts": ts,
                "value": level * (1 + 0.05 * rng.standard_normal(n)),
                "unit": unit,
            }
        )
        for m in range(machines)
        for sensor, (level, unit) in SENSORS.items()
    ]
    frame = pd.concat(parts, ignore_index=True).sort_values("ts", kind="stable")
    frame["event_id"] = [str(uuid.uuid4()) for _ in range(len(frame))]
    return frame


def copy_in(conn, frame: pd.DataFrame) -> None:
    buffer = io.StringIO()
    frame[["machine_id", "sensor", "ts", "value", "unit", "event_id"]].to_csv(buffer, index=False, header=False)
    buffer.seek(0)
    with conn.cursor() as cur:
        cur.copy_expert("COPY readings (machine_id, sensor, ts, value, unit, event_id) FROM STDIN CSV", buffer)
    conn.commit()


def timed(label: str, fn):
    started = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - started
    print(f"{label:<48} {seconds:8.3f} s")
    return result, seconds


def bench_job(days: float, machines: int) -> None:
    with tempfile.TemporaryDirectory(prefix="powercast-bench-") as data_dir:
        settings = Settings(_env_file=None, data_dir=data_dir, postgres_port=free_port(), database_url=None)
        server = EmbeddedPostgres(settings)
        url = server.start()
        try:
            migrate(url)
            conn = connect(url)
            history = readings(days, machines, T0)
            timed(f"COPY {len(history):,} readings", lambda: copy_in(conn, history))
            full, full_s = timed("feature job, full", lambda: run_feature_job(conn))
            end = T0 + timedelta(days=days)
            copy_in(conn, readings(10 / 1440, machines, end, seed=1))
            fresh, fresh_s = timed("feature job, 10 fresh minutes", lambda: run_feature_job(conn, settle=timedelta(0)))
            hour = T0 + timedelta(hours=1)
            late = history[(history["ts"] >= hour) & (history["ts"] < hour + timedelta(seconds=10))]
            late = late.assign(
                ts=late["ts"] + timedelta(seconds=5), event_id=[str(uuid.uuid4()) for _ in range(len(late))]
            )
            copy_in(conn, late)
            _, late_s = timed(
                "feature job, one late minute per machine", lambda: run_feature_job(conn, settle=timedelta(0))
            )
            _, idle_s = timed("feature job, nothing new", lambda: run_feature_job(conn, settle=timedelta(0)))
            frame, _ = timed("load_minute_frame (all)", lambda: load_minute_frame(conn))
            conn.close()
            print(
                f"full: {full.minutes_recomputed:,} minutes; incremental: {fresh.minutes_recomputed} minutes; "
                f"frame {frame.shape}"
            )
            print(
                f"ratio full / incremental (10 fresh minutes): {full_s / fresh_s:,.0f}x; "
                f"full / late minute: {full_s / late_s:,.0f}x; full / nothing new: {full_s / idle_s:,.0f}x"
            )
        finally:
            server.stop()


def bench_derive(machines: int) -> None:
    rng = np.random.default_rng(2)
    n = 14 * 1440
    frame = pd.concat(
        [
            pd.DataFrame(
                {
                    "machine_id": f"M-{m:03d}",
                    "ts": T0 + pd.to_timedelta(np.arange(n), unit="min"),
                    "power": rng.normal(1500, 50, n),
                    "temperature": rng.normal(60, 1, n),
                    "machine_type": "press",
                    "rated_power_w": 3000.0,
                }
            )
            for m in range(machines)
        ],
        ignore_index=True,
    )
    spec = FeatureSpec()
    _, batch_s = timed(f"derive_features, {len(frame):,} minute rows", lambda: derive_features(frame, spec))
    live = IncrementalFeatures(spec)
    live.update(frame[frame["ts"] < T0 + timedelta(days=1)])
    minutes = [frame[frame["ts"] == T0 + timedelta(days=1, minutes=i)] for i in range(20)]
    _, live_s = timed("IncrementalFeatures.update, 20 single minutes", lambda: [live.update(m) for m in minutes])
    index, _ = timed("training_index (every minute)", lambda: training_index(frame, spec))
    _, windows_s = timed(
        f"sliding_windows + targets, {len(index):,} windows",
        lambda: (sliding_windows(frame, spec, index, dtype=np.float32), targets(frame, index, 15)),
    )
    print(
        f"live update per minute ({machines} machines): {1000 * live_s / 20:.0f} ms; batch per minute row: "
        f"{1e6 * batch_s / len(frame):.1f} us; windows per second: {len(index) / windows_s:,.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=float, default=1.0, help="days of 10-second readings for the job benchmark")
    parser.add_argument("--machines", type=int, default=10)
    args = parser.parse_args()
    bench_job(args.days, args.machines)
    bench_derive(args.machines)


if __name__ == "__main__":
    main()
