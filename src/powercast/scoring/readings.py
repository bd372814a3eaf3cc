"""Reads of the recent readings a forecast is scored from (PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from powercast.names import MACHINES_TABLE, READINGS_TABLE


def active_machines(conn, since: pd.Timestamp, until: pd.Timestamp) -> list[str]:
    """Machines with at least one power reading in [since, until)."""
    with conn.cursor() as cur:
        cur.execute(
            f"SELECT DISTINCT machine_id FROM {READINGS_TABLE} "  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
            "WHERE sensor = 'power' AND ts >= %s AND ts < %s ORDER BY machine_id",
            (since, until),
        )
        return [row[0] for row in cur.fetchall()]


def recent_readings(
    conn, since: pd.Timestamp, until: pd.Timestamp, machines: Sequence[str] | None = None
) -> pd.DataFrame:
    """Long readings in [since, until) with the machines' attributes (when registered), sorted."""
    where = "r.ts >= %s AND r.ts < %s"
    args: list = [since, until]
    if machines is not None:
        where += " AND r.machine_id = ANY(%s)"
        args.append(list(machines))
    query = (
        f"SELECT r.machine_id, r.sensor, r.ts, r.value, m.machine_type, m.rated_power_w "  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
        f"FROM {READINGS_TABLE} r LEFT JOIN {MACHINES_TABLE} m USING (machine_id) "
        f"WHERE {where} ORDER BY r.machine_id, r.ts, r.sensor"
    )
    with conn.cursor() as cur:
        cur.execute(query, args)
        rows = cur.fetchall()
    frame = pd.DataFrame(rows, columns=["machine_id", "sensor", "ts", "value", "machine_type", "rated_power_w"])
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    frame["value"] = frame["value"].astype(float)
    frame["rated_power_w"] = frame["rated_power_w"].astype(float)
    if frame["machine_type"].isna().all():
        frame = frame.drop(columns=["machine_type"])
    if frame["rated_power_w"].isna().all():
        frame = frame.drop(columns=["rated_power_w"])
    return frame
