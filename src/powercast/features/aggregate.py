"""Long readings (machine_id, sensor, ts, value) of any sampling -> the minute frame on a regular grid.

This is the same aggregation the `features_1m` table holds (mean, min, max, sample std, last, count per
sensor and minute), done in pandas for user files and live scoring.

Coarser meters (a reading every 5 or 10 minutes, say) are held: a sensor whose median spacing is longer than a
minute keeps its last value in the following buckets, up to its own spacing (sample-and-hold). Those buckets
carry the held value in mean/min/max/last, std NaN and count 0, so the count still tells measured buckets from
held ones; a silence longer than the meter's spacing stays a gap (NaN). Holding instead of interpolating means
no bucket ever borrows a value from its future, so features built on held buckets cannot leak.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd

from powercast.errors import PowercastError
from powercast.features.frame import ATTRIBUTES, SENSOR_ORDER, STATS, sensor_columns, to_grid
from powercast.stream.events import SENSORS

log = logging.getLogger(__name__)
READING_COLUMNS = ["machine_id", "sensor", "ts", "value"]
_HELD = ("", "_min", "_max", "_last")


def minute_frame_from_readings(readings: pd.DataFrame, machines: pd.DataFrame | None = None) -> pd.DataFrame:
    """The minute frame of long readings; `machines` (machine_id, machine_type, rated_power_w) adds attributes."""
    readings = clean_readings(readings)
    if readings.empty:
        raise PowercastError("no readings to aggregate", "supply rows with machine_id, sensor, ts and value")
    readings = readings.assign(bucket=readings["ts"].dt.floor("min"))
    stats = (readings.groupby(["machine_id", "sensor", "bucket"], sort=True)["value"]
             .agg(["mean", "min", "max", "std", "last", "count"]).unstack("sensor"))
    sensors = [s for s in SENSOR_ORDER if s in stats.columns.get_level_values("sensor")]
    wide = pd.DataFrame(index=stats.index)
    for sensor in sensors:
        for column, stat in zip(sensor_columns(sensor), ("mean", *STATS)):
            wide[column] = stats[(stat, sensor)]
    frame = to_grid(wide.rename_axis(["machine_id", "ts"]).reset_index())
    frame = _hold_coarse_sensors(frame, sampling_minutes(readings))
    if machines is not None:
        frame = frame.merge(machines[["machine_id", *[a for a in ATTRIBUTES if a in machines.columns]]],
                            on="machine_id", how="left")
    return frame


def clean_readings(readings: pd.DataFrame) -> pd.DataFrame:
    """Typed, sorted long readings of known sensors; duplicated (machine_id, sensor, ts) keep their first value."""
    missing = [c for c in READING_COLUMNS if c not in readings.columns]
    if missing:
        raise PowercastError(f"readings lack column(s) {missing}", f"provide long-format columns {READING_COLUMNS}")
    out = readings[READING_COLUMNS].copy()
    out["machine_id"] = out["machine_id"].astype(str)
    out["sensor"] = out["sensor"].astype(str).str.strip().str.lower()
    out["ts"] = pd.to_datetime(out["ts"], utc=True).astype("datetime64[ns, UTC]")
    out["value"] = pd.to_numeric(out["value"]).astype(float)
    unknown = sorted(set(out["sensor"]) - set(SENSORS))
    if unknown:
        log.warning("ignoring readings of unknown sensor(s) %s (known: %s)", unknown, list(SENSORS))
        out = out[out["sensor"].isin(SENSORS)]
    out = out[np.isfinite(out["value"])]
    out = out.drop_duplicates(["machine_id", "sensor", "ts"], keep="first")
    return out.sort_values(["machine_id", "sensor", "ts"], kind="stable").reset_index(drop=True)


def sampling_minutes(readings: pd.DataFrame) -> pd.Series:
    """Median spacing between readings, in minutes, per (machine_id, sensor)."""
    spacing = readings.groupby(["machine_id", "sensor"])["ts"].diff().dt.total_seconds() / 60
    return spacing.groupby([readings["machine_id"], readings["sensor"]]).median().dropna()


def _hold_coarse_sensors(frame: pd.DataFrame, spacing: pd.Series) -> pd.DataFrame:
    for (machine, sensor), minutes in spacing.items():
        hold = math.ceil(minutes - 1e-9) - 1
        if hold < 1:
            continue
        rows = frame["machine_id"] == machine
        columns = [f"{sensor}{suffix}" for suffix in _HELD]
        frame.loc[rows, columns] = frame.loc[rows, columns].ffill(limit=hold)
    return frame
