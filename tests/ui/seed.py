"""A small fleet's readings, minute features and issued forecasts, written straight into PostgreSQL for the
control center's tests (browser and integration): deterministic, relative to `now`, a few seconds to write."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from powercast.db.connection import connect

SENSOR_UNITS = {"power": "W", "temperature": "°C", "vibration": "m/s²", "pressure": "bar"}


@dataclass(frozen=True)
class Seeded:
    machines: list[str]
    now: datetime
    alarm: str  # hot machine
    stale: str  # stopped reporting 20 minutes ago
    idle: str  # runs at low load
    issue_times: list[datetime]  # every machine has a forecast at each of these


def _readings(machine: str, rated: float, start: pd.Timestamp, end: pd.Timestamp, kind: str, rng) -> pd.DataFrame:
    ts = pd.date_range(start, end, freq="10s", inclusive="left")
    t = (ts - start).total_seconds().to_numpy() / 60.0
    load = 0.65 + 0.2 * np.sin(2 * np.pi * t / 47.0) + 0.05 * rng.standard_normal(len(ts))
    if kind == "idle":
        load = 0.12 + 0.02 * rng.standard_normal(len(ts))
    power = rated * np.clip(load, 0.02, 1.05)
    temperature = 30 + 25 * np.clip(load, 0, 1) + 0.2 * rng.standard_normal(len(ts))
    if kind == "alarm":
        temperature = temperature + np.clip((t - t.max() + 15) * 4.0, 0, 50)
    vibration = 1.5 + 2.5 * np.clip(load, 0, 1) ** 1.5 * (1 + 0.03 * rng.standard_normal(len(ts)))
    pressure = 5 + 1.5 * np.clip(load, 0, 1) + 0.02 * rng.standard_normal(len(ts))
    frames = []
    for sensor, values in (
        ("power", power),
        ("temperature", temperature),
        ("vibration", vibration),
        ("pressure", pressure),
    ):
        frames.append(pd.DataFrame({"machine_id": machine, "sensor": sensor, "ts": ts, "value": values}))
    out = pd.concat(frames, ignore_index=True)
    if kind == "stale":
        out = out[out["ts"] < end - pd.Timedelta(minutes=20)]
    return out


def _copy(cur, table: str, frame: pd.DataFrame, columns: list[str]) -> None:
    buf = io.StringIO()
    frame[columns].to_csv(buf, index=False, header=False, date_format="%Y-%m-%dT%H:%M:%S%z")
    buf.seek(0)
    cur.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)", buf)


def seed_fleet(
    url: str, prefix: str = "T", machines: int = 6, hours: float = 6.0, now: datetime | None = None, seed: int = 7
) -> Seeded:
    """Machines `{prefix}-001`..., readings every 10 s over the last `hours`, features_1m from them, and forecasts
    issued every 5 minutes (15 steps, 10-90 % band) by model v1 (first half) and v2 (second half)."""
    rng = np.random.default_rng(seed)
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    end = pd.Timestamp(now)
    start = (end - pd.Timedelta(hours=hours)).floor("min")
    ids = [f"{prefix}-{i:03d}" for i in range(1, machines + 1)]
    kinds = {ids[2]: "alarm", ids[3]: "stale", ids[4]: "idle"} if machines >= 5 else {}
    rated = {m: float(20_000 + 10_000 * i) for i, m in enumerate(ids)}
    readings = pd.concat(
        [_readings(m, rated[m], start, end, kinds.get(m, "normal"), rng) for m in ids], ignore_index=True
    )
    readings["unit"] = readings["sensor"].map(SENSOR_UNITS)
    readings["event_id"] = [str(uuid.UUID(int=int(x))) for x in rng.integers(0, 2**63, len(readings))]
    minute = readings.assign(ts=readings["ts"].dt.floor("min"))
    means = minute[minute["sensor"] == "power"].groupby(["machine_id", "ts"])["value"].mean()
    issue_times = pd.date_range(
        start + pd.Timedelta(minutes=30), end.floor("min") - pd.Timedelta(minutes=1), freq="5min"
    )
    rows = []
    half = issue_times[len(issue_times) // 2]
    for m in ids:
        series = means.loc[m]
        for issue in issue_times:
            last = series[series.index < issue]
            if last.empty:
                continue
            anchor = float(last.iloc[-1])
            version = "1" if issue < half else "2"
            for step in range(1, 16):
                target = issue + pd.Timedelta(minutes=step - 1)
                truth = float(series.get(target, anchor))
                yhat = 0.5 * anchor + 0.5 * truth + rated[m] * 0.02 * rng.standard_normal()
                rows.append(
                    (m, issue, step, target, yhat, yhat - 0.06 * rated[m], yhat + 0.06 * rated[m], "xgb", version)
                )
    forecasts = pd.DataFrame(
        rows,
        columns=["machine_id", "issue_ts", "step", "ts", "yhat", "yhat_lo", "yhat_hi", "model_name", "model_version"],
    )
    conn = connect(url)
    try:
        with conn, conn.cursor() as cur:
            for m in ids:
                cur.execute(
                    "INSERT INTO machines (machine_id, machine_type, rated_power_w) VALUES (%s, %s, %s) "
                    "ON CONFLICT (machine_id) DO NOTHING",
                    (m, "cnc_mill", rated[m]),
                )
            _copy(cur, "readings", readings, ["machine_id", "sensor", "ts", "value", "unit", "event_id"])
            _copy(
                cur,
                "forecasts",
                forecasts,
                ["machine_id", "issue_ts", "step", "ts", "yhat", "yhat_lo", "yhat_hi", "model_name", "model_version"],
            )
            cur.execute("INSERT INTO feature_snapshots (mode, spec_hash) VALUES ('full', 'seed') RETURNING id")
            snapshot = cur.fetchone()[0]
            cur.execute(
                """INSERT INTO features_1m (machine_id, ts, power_mean, power_count, snapshot_id)
                   SELECT machine_id, date_trunc('minute', ts), avg(value), count(*), %s FROM readings
                   WHERE sensor = 'power' AND machine_id = ANY(%s) GROUP BY 1, 2
                   ON CONFLICT (machine_id, ts) DO NOTHING""",
                (snapshot, ids),
            )
    finally:
        conn.close()
    return Seeded(
        ids,
        now,
        ids[2] if kinds else ids[0],
        ids[3] if kinds else ids[0],
        ids[4] if kinds else ids[0],
        [t.to_pydatetime() for t in issue_times],
    )
