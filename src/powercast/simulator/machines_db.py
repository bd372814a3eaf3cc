"""Registers the simulated fleet in the `machines` table, so later stages know each machine's attributes."""

from __future__ import annotations

from psycopg2.extras import Json, execute_values

from powercast.db.connection import connect
from powercast.names import MACHINES_TABLE
from powercast.simulator.fleet import Machine

UPSERT = f"""
INSERT INTO {MACHINES_TABLE} (machine_id, machine_type, rated_power_w, attributes) VALUES %s
ON CONFLICT (machine_id) DO UPDATE SET machine_type = EXCLUDED.machine_type,
    rated_power_w = EXCLUDED.rated_power_w, attributes = EXCLUDED.attributes
"""  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters


def upsert_machines(database_url: str, machines: list[Machine]) -> int:
    """Insert or update one row per machine; returns how many machines were written."""
    rows = [(m.machine_id, m.machine_type, m.rated_power_w, Json(m.attributes())) for m in machines]
    conn = connect(database_url)
    try:
        with conn, conn.cursor() as cur:
            execute_values(cur, UPSERT, rows, page_size=1000)
    finally:
        conn.close()
    return len(rows)
