"""Reading `features_1m` back as the minute frame (regular grid, gaps as NaN rows, machine attributes)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime

import pandas as pd
import psycopg2

from powercast.db.connection import connect
from powercast.errors import PowercastError
from powercast.features.aggregate import hold_coarse_sensors
from powercast.features.frame import SENSOR_ORDER, STATS, sensor_columns, to_grid
from powercast.names import FEATURE_SNAPSHOTS_TABLE, FEATURES_TABLE, MACHINES_TABLE


def _select() -> str:
    columns = []
    for sensor in SENSOR_ORDER:
        columns.append(f"f.{sensor}_mean AS {sensor}")
        columns += [f"f.{sensor}_{stat}" for stat in STATS]
    return (
        f"SELECT f.machine_id, f.ts, {', '.join(columns)}, m.machine_type, m.rated_power_w "  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
        f"FROM {FEATURES_TABLE} f LEFT JOIN {MACHINES_TABLE} m ON m.machine_id = f.machine_id"
    )


def load_minute_frame(
    conn_or_url, start: datetime | None = None, end: datetime | None = None, machines: Sequence[str] | None = None
) -> pd.DataFrame:
    """The minute frame of features_1m rows with start <= ts < end (either bound optional), per machine on a
    regular grid from its first to its last bucket in that range, with `machine_type` and `rated_power_w`.

    The current minute may still be filling: to score live, pass `end` = the start of the current minute.
    Sensors without a single reading in the result are left out (their columns would be empty); sensors sampled
    less often than once a minute are held across their interval, as in `minute_frame_from_readings`.
    """
    clauses, params = [], {}
    if start is not None:
        clauses.append("f.ts >= %(start)s")
        params["start"] = start
    if end is not None:
        clauses.append("f.ts < %(end)s")
        params["end"] = end
    if machines is not None:
        clauses.append("f.machine_id = ANY(%(machines)s)")
        params["machines"] = list(machines)
    query = _select() + (" WHERE " + " AND ".join(clauses) if clauses else "") + " ORDER BY f.machine_id, f.ts"
    frame = _copy_query(conn_or_url, query, params)
    if frame.empty:
        raise PowercastError(
            "no minute features in the requested range",
            "run `powercast features` after readings arrived, or widen --since/--until",
        )
    frame["machine_id"] = frame["machine_id"].astype(str)
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True).astype("datetime64[ns, UTC]")
    absent = [s for s in SENSOR_ORDER if s != "power" and frame[f"{s}_count"].sum() == 0]
    frame = frame.drop(columns=[c for s in absent for c in sensor_columns(s)])
    return hold_coarse_sensors(to_grid(frame))


def snapshots(conn_or_url, limit: int = 10) -> list[dict]:
    """The most recent feature_snapshots rows, newest first, as dicts."""
    conn = connect(conn_or_url) if isinstance(conn_or_url, str) else conn_or_url
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT * FROM {FEATURE_SNAPSHOTS_TABLE} ORDER BY id DESC LIMIT %s", (limit,))  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row)) for row in cur.fetchall()]
    finally:
        if isinstance(conn_or_url, str):
            conn.close()


def _copy_query(conn_or_url, query: str, params: dict) -> pd.DataFrame:
    """Run a SELECT through COPY ... TO STDOUT as CSV: much faster than fetching rows as Python objects.
    Timestamps come with their UTC offset, so the session's time zone does not matter."""
    conn = connect(conn_or_url) if isinstance(conn_or_url, str) else conn_or_url
    try:
        with conn.cursor() as cur:
            buffer = io.StringIO()
            cur.copy_expert(f"COPY ({cur.mogrify(query, params).decode()}) TO STDOUT WITH CSV HEADER", buffer)
        buffer.seek(0)
        return pd.read_csv(buffer, dtype={"machine_id": str, "machine_type": str})
    except psycopg2.errors.UndefinedTable as exc:
        conn.rollback()
        raise PowercastError(
            f"the feature tables are missing ({str(exc).splitlines()[0]})",
            "apply the schema with `powercast db migrate`, then run `powercast features`",
        ) from exc
    finally:
        if isinstance(conn_or_url, str):
            conn.close()
