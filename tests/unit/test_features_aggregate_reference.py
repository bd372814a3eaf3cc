"""The vectorised aggregation equals, bit for bit, a plain pandas groupby of the same readings.

The reference below is the straightforward formulation (clean, group by machine/sensor/minute, unstack, reindex
to the grid, hold coarse meters machine by machine); the production code computes the same with integer group
codes and numpy. Cases: 10-second data, a fleet, shuffled irregular timestamps with duplicates and odd sensor
spelling, 90-second and 10-minute meters, and coarse and fine machines mixed in one frame.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from powercast.features.aggregate import minute_frame_from_readings
from powercast.features.frame import SENSOR_ORDER, STATS, present_sensors, sensor_columns, to_grid
from powercast.stream.events import SENSORS
from tests.simulated import meter_readings

END = pd.Timestamp("2026-11-05 06:00", tz="UTC")


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


def reference_minute_frame(readings: pd.DataFrame) -> pd.DataFrame:
    out = readings[["machine_id", "sensor", "ts", "value"]].copy()
    out["machine_id"] = out["machine_id"].astype(str)
    out["sensor"] = out["sensor"].astype(str).str.strip().str.lower()
    out["ts"] = pd.to_datetime(out["ts"], utc=True).astype("datetime64[ns, UTC]")
    out = out[out["sensor"].isin(SENSORS) & np.isfinite(out["value"].astype(float))]
    out = out.drop_duplicates(["machine_id", "sensor", "ts"], keep="first")
    out = out.sort_values(["machine_id", "sensor", "ts"], kind="stable").reset_index(drop=True)
    out = out.assign(bucket=out["ts"].dt.floor("min"))
    stats = (
        out.groupby(["machine_id", "sensor", "bucket"], sort=True)["value"]
        .agg(["mean", "min", "max", "std", "last", "count"])
        .unstack("sensor")
    )
    wide = pd.DataFrame(index=stats.index)
    for sensor in [s for s in SENSOR_ORDER if s in stats.columns.get_level_values("sensor")]:
        for column, stat in zip(sensor_columns(sensor), ("mean", *STATS)):
            wide[column] = stats[(stat, sensor)]
    frame = to_grid(wide.rename_axis(["machine_id", "ts"]).reset_index())
    for sensor in present_sensors(frame):
        for machine, minutes in sampling_minutes(frame, sensor).items():
            hold = math.ceil(minutes - 1e-9) - 1
            if hold >= 1:
                rows = frame["machine_id"] == machine
                columns = [f"{sensor}{suffix}" for suffix in ("", "_min", "_max", "_last")]
                frame.loc[rows, columns] = frame.loc[rows, columns].ffill(limit=hold)
    return frame


def _ten_second(machines: int, minutes: int, seed: int) -> pd.DataFrame:
    start = (END - pd.Timedelta(minutes=minutes)).isoformat()
    return meter_readings(
        days=minutes / 1440,
        n_machines=machines,
        seed=seed,
        every_s=10,
        sensors=("power", "temperature", "vibration", "pressure"),
        start=start,
    )


def _irregular() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    readings = _ten_second(3, 120, seed=5).sample(frac=0.5, random_state=1)
    readings["ts"] = readings["ts"] + pd.to_timedelta(rng.integers(0, 7000, len(readings)), unit="ms")
    readings = pd.concat([readings, readings.iloc[:50].assign(value=-1.0)])  # re-sent rows: the first one counts
    readings.loc[readings.index[:5], "sensor"] = " Power "
    return readings


def _mixed() -> pd.DataFrame:
    coarse = meter_readings(days=0.2, n_machines=2, seed=8, every_s=600, sensors=("power", "temperature"))
    fine = _ten_second(2, 200, seed=3).assign(machine_id=lambda d: "X" + d["machine_id"])
    return pd.concat([coarse, fine], ignore_index=True)


CASES = {
    "10-second, one machine": lambda: _ten_second(1, 70, seed=11),
    "10-second, fleet": lambda: _ten_second(12, 70, seed=12),
    "irregular, shuffled, duplicated": _irregular,
    "90-second meter": lambda: meter_readings(
        days=0.2, n_machines=3, seed=4, every_s=90, sensors=("power", "temperature")
    ),
    "10-minute meter": lambda: meter_readings(days=0.3, n_machines=2, seed=6, every_s=600, sensors=("power",)),
    "coarse and fine machines": _mixed,
}


@pytest.mark.parametrize("case", CASES)
def test_minute_frame_is_bit_identical_to_the_groupby_reference(case):
    readings = CASES[case]()
    pd.testing.assert_frame_equal(
        minute_frame_from_readings(readings), reference_minute_frame(readings), check_exact=True
    )


def test_reference_cases_exercise_holding_and_gaps():
    held = minute_frame_from_readings(CASES["10-minute meter"]())
    assert (held["power_count"] == 0).sum() > 0 and held["power"].notna().sum() > held["power_count"].gt(0).sum()
    irregular = minute_frame_from_readings(_irregular())
    assert irregular["power_count"].nunique() > 2  # uneven buckets
    assert (irregular["power_min"].dropna() >= 0).all()  # the re-sent -1.0 rows were dropped
