"""A span of the fleet's readings as one long table, without a broker: what models, drift checks, tests and
benchmarks learn from when they do not read the database."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from powercast.simulator.engine import FleetSimulator
from powercast.simulator.fleet import Machine
from powercast.stream.events import SENSORS


def long_readings(
    machines: list[Machine],
    start: datetime,
    end: datetime,
    *,
    seed: int,
    interval_s: int = 10,
    anomaly_rate: float = 0.0,
) -> pd.DataFrame:
    """Readings of `machines` in [start, end): columns machine_id, sensor, ts (UTC), value; one row per sensor
    and interval, as the ingestor would store them (dropouts leave no row)."""
    simulator = FleetSimulator(machines, seed=seed, interval_s=interval_s, anomaly_rate=anomaly_rate)
    first, last = (int(pd.Timestamp(t).timestamp()) // interval_s for t in (start, end))
    block = simulator.block(first, last)
    ts = pd.to_datetime(block.steps * interval_s, unit="s", utc=True)
    parts = []
    for sensor in SENSORS:
        values = block.series(sensor)
        for row, machine in enumerate(machines):
            keep = ~np.isnan(values[row])
            parts.append(
                pd.DataFrame(
                    {"machine_id": machine.machine_id, "sensor": sensor, "ts": ts[keep], "value": values[row][keep]}
                )
            )
    return pd.concat(parts, ignore_index=True)


def machine_attributes(machines: list[Machine]) -> pd.DataFrame:
    """machine_id, machine_type and rated_power_w of each machine (the `machines` table's columns)."""
    return pd.DataFrame(
        {
            "machine_id": [m.machine_id for m in machines],
            "machine_type": [m.machine_type for m in machines],
            "rated_power_w": [float(m.rated_power_w) for m in machines],
        }
    )
