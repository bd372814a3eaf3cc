"""A simulated fleet in PostgreSQL for the Grafana checks and `benchmarks/grafana_queries.py`.

Readings come from `powercast.simulator` (the engine behind `generate_events`) and are COPYed in time order,
each `ingested_at` a fraction of a second after its `ts` as the live ingestor would write it. Optionally: the
1-minute features computed from the same values, forecasts issued every minute (the actual minute mean with a
little noise, a band of +-8 % of rated power), promotion decisions and dead letters.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from powercast.names import (
    DEAD_LETTERS_TABLE,
    DRIFT_REPORTS_TABLE,
    FEATURE_SNAPSHOTS_TABLE,
    FEATURES_TABLE,
    FORECASTS_TABLE,
    MACHINES_TABLE,
    MODEL_PROMOTIONS_TABLE,
    READINGS_TABLE,
)
from powercast.simulator.engine import FleetSimulator
from powercast.simulator.fleet import Machine
from powercast.stream.events import SENSOR_UNITS, SENSORS

MODEL = "powercast-forecaster"
BAND = 0.08  # forecast band half-width, share of rated power
DEAD_LETTERS = (  # (reason code, message) as the ingestor writes them
    ("json", "not valid JSON: expected value at line 1 column 1"),
    ("schema", "sensor: Input should be 'temperature', 'vibration', 'pressure' or 'power'"),
    ("schema", "value: Input should be a finite number"),
    ("future", "ts 2026-03-02T10:00:00+00:00 is more than 0:05:00 in the future"),
    ("key_mismatch", "key b'M-002' is not the event's machine_id 'M-001'"),
)


@dataclass
class Filled:
    readings: int = 0
    features: int = 0
    forecasts: int = 0
    power_minutes: np.ndarray | None = None  # (machines, minutes) mean power per minute from `start`


def register(conn, machines: list[Machine]) -> None:
    with conn.cursor() as cur:
        for m in machines:
            cur.execute(
                f"INSERT INTO {MACHINES_TABLE} (machine_id, machine_type, rated_power_w) VALUES (%s, %s, %s) "
                "ON CONFLICT (machine_id) DO UPDATE SET machine_type = EXCLUDED.machine_type, "
                "rated_power_w = EXCLUDED.rated_power_w",
                (m.machine_id, m.machine_type, m.rated_power_w),
            )
    conn.commit()


def _iso(seconds: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(seconds.astype("datetime64[ms]"), unit="ms", timezone="UTC")


def _copy(conn, table: str, columns: list[str], frame: pd.DataFrame) -> None:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False)
    buffer.seek(0)
    with conn.cursor() as cur:
        cur.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)", buffer)


def copy_block(conn, block, lag_s: float = 0.4) -> int:
    """COPY one simulator block into readings in time order (step, machine, sensor)."""
    m, n, s = block.values.shape
    present = block.present.transpose(1, 0, 2).reshape(-1)
    ts = np.repeat(block.steps.astype(np.int64) * block.interval_s, m * s)
    hexes = np.frombuffer(block.event_ids.transpose(1, 0, 2, 3).tobytes().hex().encode(), dtype="S32").astype(str)
    frame = pd.DataFrame(
        {
            "machine_id": np.tile(np.repeat([x.machine_id for x in block.machines], s), n),
            "sensor": np.tile(SENSORS, m * n),
            "ts": _iso(ts * 1000),
            "value": block.values.transpose(1, 0, 2).reshape(-1),
            "unit": np.tile([SENSOR_UNITS[x] for x in SENSORS], m * n),
            "event_id": hexes,
            "ingested_at": _iso(ts * 1000 + int(lag_s * 1000)),
        }
    )[present]
    _copy(conn, READINGS_TABLE, list(frame.columns), frame)
    return len(frame)


def _minute_means(block) -> np.ndarray:
    """(machines, minutes, sensors) means of a block whose steps cover whole minutes."""
    per_minute = 60 // block.interval_s
    m, n, s = block.values.shape
    values = np.where(block.present, block.values, np.nan)
    return np.nanmean(values.reshape(m, n // per_minute, per_minute, s), axis=2)


def copy_features(conn, block, snapshot_id: int) -> int:
    means = _minute_means(block)
    m, minutes, _ = means.shape
    first = int(block.steps[0]) * block.interval_s
    frame = pd.DataFrame(
        {
            "machine_id": np.repeat([x.machine_id for x in block.machines], minutes),
            "ts": np.tile(_iso((first + 60 * np.arange(minutes, dtype=np.int64)) * 1000), m),
        }
    )
    for i, sensor in enumerate(SENSORS):
        frame[f"{sensor}_mean"] = means[:, :, i].reshape(-1)
        frame[f"{sensor}_count"] = 60 // block.interval_s
    frame["snapshot_id"] = snapshot_id
    _copy(conn, FEATURES_TABLE, list(frame.columns), frame)
    return len(frame)


def fill_readings(
    conn,
    machines: list[Machine],
    start: datetime,
    end: datetime,
    *,
    seed: int = 42,
    interval_s: int = 10,
    features: bool = False,
    chunk_minutes: int = 60,
    progress=None,
) -> Filled:
    """Simulated readings (and, with `features`, features_1m rows) for [start, end); start on a minute."""
    register(conn, machines)
    sim = FleetSimulator(machines, seed=seed, interval_s=interval_s)
    first, last = int(start.timestamp()) // interval_s, int(end.timestamp()) // interval_s
    chunk = chunk_minutes * 60 // interval_s
    snapshot_id = _snapshot(conn, start, end, machines) if features else 0
    filled, power = Filled(), []
    for a in range(first, last, chunk):
        block = sim.block(a, min(a + chunk, last))
        filled.readings += copy_block(conn, block)
        power.append(_minute_means(block)[:, :, SENSORS.index("power")])
        if features:
            filled.features += copy_features(conn, block, snapshot_id)
        conn.commit()
        if progress is not None:
            progress(block)
    filled.power_minutes = np.concatenate(power, axis=1)
    return filled


def _snapshot(conn, start: datetime, end: datetime, machines: list[Machine]) -> int:
    with conn.cursor() as cur:
        cur.execute(
            f"INSERT INTO {FEATURE_SNAPSHOTS_TABLE} (created_at, mode, range_start, range_end, machines, "
            "minutes_recomputed, row_count, watermark, spec_hash, duration_s) "
            "VALUES (%s, 'full', %s, %s, %s, %s, %s, %s, 'simulated', 1.0) RETURNING id",
            (end, start, end, [m.machine_id for m in machines], 0, 0, end),
        )
        return cur.fetchone()[0]


def fill_forecasts(
    conn, machines: list[Machine], start: datetime, power_minutes: np.ndarray, *, seed: int = 7, versions=("1", "2")
) -> int:
    """A forecast issued at every minute after the first, 15 steps, near the actual minute means.

    Forecasts issued in the second half of the range carry the second model version."""
    rng = np.random.default_rng(seed)
    m, minutes = power_minutes.shape
    rated = np.array([x.rated_power_w for x in machines])
    t0 = int(start.timestamp())
    steps = np.arange(1, 16)
    written = 0
    for first_issue in range(1, minutes + 1, 240):
        issues = np.arange(first_issue, min(first_issue + 240, minutes + 1))
        target = issues[:, None] + steps[None, :] - 1  # minute index of each step's bucket
        actual = power_minutes[:, np.minimum(target, minutes - 1)]  # beyond the data: the last minute
        yhat = actual * (1 + 0.02 * rng.standard_normal(actual.shape))
        half = BAND * rated[:, None, None]
        version = np.where(issues >= minutes // 2, versions[1], versions[0])
        shape = (m, len(issues), len(steps))
        frame = pd.DataFrame(
            {
                "machine_id": np.repeat([x.machine_id for x in machines], len(issues) * len(steps)),
                "issue_ts": _iso(np.broadcast_to((t0 + 60 * issues)[None, :, None], shape).reshape(-1) * 1000),
                "step": np.broadcast_to(steps[None, None, :], shape).reshape(-1),
                "ts": _iso(np.broadcast_to(t0 + 60 * target[None], shape).reshape(-1) * 1000),
                "yhat": yhat.reshape(-1),
                "yhat_lo": (yhat - half).reshape(-1),
                "yhat_hi": (yhat + half).reshape(-1),
                "model_name": MODEL,
                "model_version": np.broadcast_to(version[None, :, None], shape).reshape(-1),
            }
        )
        frame = frame[np.isfinite(frame["yhat"])]
        _copy(conn, FORECASTS_TABLE, list(frame.columns), frame)
        conn.commit()
        written += len(frame)
    return written


def fill_history(conn, start: datetime, end: datetime, dead_letters: int = 40) -> None:
    """Two promotion decisions (a promotion at a third of the range, a rollback at two thirds), two drift checks
    (the second one drifted and triggered a training run) and dead letters."""
    span = end - start
    with conn.cursor() as cur:
        for at, action, outcome, before, after in (
            (start + span / 3, "promote", "promoted", "1", "2"),
            (start + 2 * span / 3, "rollback", "rolled_back", "2", "1"),
        ):
            cur.execute(
                f"INSERT INTO {MODEL_PROMOTIONS_TABLE} (decided_at, action, triggered_by, registered_model, "
                "champion_version, challenger_version, champion_mae, challenger_mae, persistence_mae, rule, "
                "outcome, reason, new_champion_version) "
                "VALUES (%s, %s, 'checks', %s, %s, %s, 900, 800, 1000, 'mae', %s, 'simulated decision', %s)",
                (at, action, MODEL, before, after, outcome, after),
            )
        for at, share, decision, run in ((start + span / 2, 0.05, "ok", None), (end, 0.4, "retrain", "drift__1")):
            cur.execute(
                f"INSERT INTO {DRIFT_REPORTS_TABLE} (created_at, window_start, window_end, model_version, "
                "reference_rows, current_rows, drifted_share, error_ratio, decision, reason, triggered_run) "
                "VALUES (%s, %s, %s, '1', 600, 60, %s, 1.1, %s, 'simulated check', %s)",
                (at, at - timedelta(hours=1), at, share, decision, run),
            )
        for i in range(dead_letters):
            at = start + span * (i + 0.5) / dead_letters
            cur.execute(
                f'INSERT INTO {DEAD_LETTERS_TABLE} (topic, "partition", "offset", payload, reason, error, received_at) '
                "VALUES ('sensor.readings', 0, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (10_000_000 + i, b"{}", *DEAD_LETTERS[i % len(DEAD_LETTERS)], at),
            )
    conn.commit()


def minute_floor(ts: datetime) -> datetime:
    return ts.astimezone(UTC).replace(second=0, microsecond=0)


def hour_floor(ts: datetime) -> datetime:
    return minute_floor(ts).replace(minute=0)


def span(minutes: int) -> timedelta:
    return timedelta(minutes=minutes)
