"""Test and benchmark data drawn from `powercast.simulator`: a span of a seeded fleet as a meter export (long
readings at one sampling interval) or as the minute frame ingestion makes of its 10-second readings.

Machine `M-00k` of `seed` is the same machine in every call (`build_fleet`), so a frame to train on and the
readings of a later request can come from the same machines. No anomalies unless `anomaly_rate` asks for them.
"""

from __future__ import annotations

import pandas as pd

from powercast.features.aggregate import minute_frame_from_readings
from powercast.simulator.fleet import build_fleet
from powercast.simulator.history import long_readings, machine_attributes
from powercast.stream.events import SENSORS

START = "2026-11-05"  # a Thursday, 00:00 UTC
SIMULATOR_INTERVAL_S = 10  # the live simulator's reading interval


def meter_readings(
    days: float = 2,
    n_machines: int = 3,
    seed: int = 7,
    every_s: int = 60,
    sensors: tuple[str, ...] = ("power",),
    start: str = START,
    anomaly_rate: float = 0.0,
) -> pd.DataFrame:
    """Long readings (machine_id, sensor, ts, value) of `sensors`, one every `every_s` seconds from `start` for
    `days`, as a user's meter export would hold them."""
    t0 = pd.Timestamp(start)
    t0 = t0.tz_localize("UTC") if t0.tz is None else t0.tz_convert("UTC")
    readings = long_readings(
        build_fleet(n_machines, seed=seed),
        t0,
        t0 + pd.Timedelta(days=days),
        seed=seed,
        interval_s=every_s,
        anomaly_rate=anomaly_rate,
    )
    return readings[readings["sensor"].isin(sensors)].reset_index(drop=True)


def fleet_attributes(n_machines: int, seed: int = 7) -> pd.DataFrame:
    """machine_id, machine_type and rated_power_w of the fleet `meter_readings` and `minute_frame` simulate."""
    return machine_attributes(build_fleet(n_machines, seed=seed))


def minute_frame(
    days: float = 14,
    n_machines: int = 10,
    seed: int = 7,
    start: str = START,
    sensors: tuple[str, ...] = SENSORS,
    anomaly_rate: float = 0.0,
) -> pd.DataFrame:
    """The minute frame (with machine attributes) of the fleet's 10-second readings of `sensors` from `start`
    for `days`, sorted by machine and ts."""
    readings = meter_readings(days, n_machines, seed, SIMULATOR_INTERVAL_S, sensors, start, anomaly_rate)
    return minute_frame_from_readings(readings, machines=fleet_attributes(n_machines, seed))
