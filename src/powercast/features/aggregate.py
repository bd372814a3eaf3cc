"""Long readings (machine_id, sensor, ts, value) of any sampling -> the minute frame on a regular grid.

This is the same aggregation the `features_1m` table holds (mean, min, max, sample std, last, count per
sensor and minute), done in pandas for user files and live scoring.

Coarser meters (a reading every 5 or 10 minutes, say) are held: a sensor whose measured buckets are usually
more than a minute apart (`sampling_minutes`) keeps its last value in the following buckets, up to that spacing
(sample-and-hold). The same rule applies to frames loaded from `features_1m` (`hold_coarse_sensors`). Those buckets
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
from powercast.features.frame import ATTRIBUTES, SENSOR_ORDER, STATS, present_sensors, sensor_columns, to_grid
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
    frame = hold_coarse_sensors(to_grid(wide.rename_axis(["machine_id", "ts"]).reset_index()))
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


def sampling_minutes(frame: pd.DataFrame, sensor: str) -> pd.Series:
    """Per machine, the usual spacing in minutes between buckets that hold readings of `sensor`: the mean of the
    spacings up to twice the median (a 90 s meter alternates 1 and 2 minutes: 1.5; outages do not count).
    1 for a sensor that usually reads several times a minute (sparse data there means gaps, not a slow meter)."""
    measured = frame.loc[frame[f"{sensor}_count"] > 0, ["machine_id", "ts", f"{sensor}_count"]]
    spacing = (measured.groupby("machine_id")["ts"].diff() / pd.Timedelta(minutes=1)).dropna()
    machines = measured.loc[spacing.index, "machine_id"]
    median = spacing.groupby(machines).transform("median")
    usual = spacing[spacing <= 2 * median].groupby(machines).mean()
    per_bucket = measured.groupby("machine_id")[f"{sensor}_count"].median()
    return usual.where(per_bucket.reindex(usual.index) <= 1, 1.0)


def hold_coarse_sensors(frame: pd.DataFrame) -> pd.DataFrame:
    """Sample-and-hold for sensors sampled less often than once a minute (see the module doc).

    Held buckets get the last measured mean/min/max/last; their std stays NaN and their count 0."""
    for sensor in present_sensors(frame):
        if f"{sensor}_count" not in frame.columns:
            continue
        for machine, minutes in sampling_minutes(frame, sensor).items():
            hold = math.ceil(minutes - 1e-9) - 1
            if hold < 1:
                continue
            rows = frame["machine_id"] == machine
            columns = [c for c in (f"{sensor}{suffix}" for suffix in _HELD) if c in frame.columns]
            frame.loc[rows, columns] = frame.loc[rows, columns].ffill(limit=hold)
    return frame
