"""Put simulated readings into the session's PostgreSQL so promotion and the fleet loop have history."""

from __future__ import annotations

import io
import uuid

import pandas as pd

from powercast.names import MACHINES_TABLE, READINGS_TABLE

UNITS = {"power": "W", "temperature": "°C", "vibration": "m/s²", "pressure": "bar"}


def insert_readings(conn, readings: pd.DataFrame, attributes: pd.DataFrame | None = None) -> int:
    """COPY long readings (machine_id, sensor, ts, value) into `readings`; register the machines."""
    machines = attributes if attributes is not None else pd.DataFrame({"machine_id": readings["machine_id"].unique()})
    with conn.cursor() as cur:
        for row in machines.itertuples(index=False):
            cur.execute(
                f"INSERT INTO {MACHINES_TABLE} (machine_id, machine_type, rated_power_w) VALUES (%s, %s, %s) "
                "ON CONFLICT (machine_id) DO NOTHING",
                (row.machine_id, getattr(row, "machine_type", None), getattr(row, "rated_power_w", None)),
            )
        buffer = io.StringIO()
        out = readings.assign(
            unit=readings["sensor"].map(UNITS),
            event_id=[uuid.uuid4() for _ in range(len(readings))],
            ts=readings["ts"].map(pd.Timestamp.isoformat),
        )
        out[["machine_id", "sensor", "ts", "value", "unit", "event_id"]].to_csv(buffer, index=False, header=False)
        buffer.seek(0)
        cur.copy_expert(
            f"COPY {READINGS_TABLE} (machine_id, sensor, ts, value, unit, event_id) FROM STDIN WITH (FORMAT csv)",
            buffer,
        )
    conn.commit()
    return len(readings)
