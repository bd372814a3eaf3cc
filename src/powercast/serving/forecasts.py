"""Writes and reads of issued forecasts (the `forecasts` table in PostgreSQL)."""

from __future__ import annotations

import io
import logging

import pandas as pd
import psycopg2

from powercast.db.connection import connect
from powercast.errors import PowercastError
from powercast.names import FORECASTS_TABLE
from powercast.serving.replies import Unavailable

log = logging.getLogger(__name__)
READ_TIMEOUT_S = 3


_STAGE_TABLE = "forecasts_stage"
_STAGE_COLUMNS = "machine_id, issue_ts, step, ts, yhat, yhat_lo, yhat_hi"
_CREATE_STAGE = f"""CREATE TEMP TABLE IF NOT EXISTS {_STAGE_TABLE} (
    machine_id text, issue_ts timestamptz, step smallint, ts timestamptz, yhat double precision,
    yhat_lo double precision, yhat_hi double precision
) ON COMMIT DELETE ROWS"""
_UPSERT = f"""
INSERT INTO {FORECASTS_TABLE} ({_STAGE_COLUMNS}, model_name, model_version)
SELECT {_STAGE_COLUMNS}, %s, %s FROM {_STAGE_TABLE}
ON CONFLICT (machine_id, issue_ts, step) DO UPDATE SET
    ts = EXCLUDED.ts, yhat = EXCLUDED.yhat, yhat_lo = EXCLUDED.yhat_lo, yhat_hi = EXCLUDED.yhat_hi,
    model_name = EXCLUDED.model_name, model_version = EXCLUDED.model_version, created_at = now()
"""  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters


def write_forecasts(conn, forecast: pd.DataFrame, model_name: str, model_version: str) -> int:
    """Upsert a forecast frame (one row per machine, issue minute, step); returns the rows written.

    The rows go through `COPY` into a temporary table and one upsert from there: 15,000 rows (a round of 1,000
    machines) in a fraction of the time of `INSERT ... VALUES` pages (`benchmarks/serving.py --fleet`)."""
    if forecast.empty:
        return 0
    columns = [c.strip() for c in _STAGE_COLUMNS.split(",")]
    rows = forecast[columns].astype({"step": "int16"})
    text = rows.to_csv(index=False, header=False)  # floats as repr: exact; NaN as empty: NULL
    with conn.cursor() as cur:
        cur.execute(_CREATE_STAGE)
        cur.copy_expert(f"COPY {_STAGE_TABLE} ({_STAGE_COLUMNS}) FROM STDIN WITH (FORMAT csv)", io.StringIO(text))
        cur.execute(_UPSERT, (model_name, str(model_version)))
        written = cur.rowcount
    conn.commit()
    return written


def latest_forecast(conn, machine_id: str) -> pd.DataFrame:
    """The most recently issued forecast of one machine (empty when there is none)."""
    with conn.cursor() as cur:
        cur.execute(
            f"""
            SELECT machine_id, issue_ts, step, ts, yhat, yhat_lo, yhat_hi, model_name, model_version
            FROM {FORECASTS_TABLE}
            WHERE machine_id = %s AND issue_ts = (SELECT max(issue_ts) FROM {FORECASTS_TABLE} WHERE machine_id = %s)
            ORDER BY step""",  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
            (machine_id, machine_id),
        )
        rows = cur.fetchall()
    return pd.DataFrame(
        rows,
        columns=["machine_id", "issue_ts", "step", "ts", "yhat", "yhat_lo", "yhat_hi", "model_name", "model_version"],
    )


def stored_forecast(database_url: str, machine_id: str) -> pd.DataFrame:
    """`latest_forecast` of one machine on a connection of its own; Unavailable while the database cannot be
    reached or fails the query (the cause is logged, not told to the client)."""
    try:
        conn = connect(database_url, connect_timeout=READ_TIMEOUT_S)
    except PowercastError as exc:
        log.warning("stored forecast of %s: %s", machine_id, exc.message)
        raise Unavailable("the forecast database cannot be reached", "try again shortly") from None
    try:
        return latest_forecast(conn, machine_id)
    except psycopg2.Error as exc:
        log.warning("stored forecast of %s: %s", machine_id, str(exc).strip()[:300])
        raise Unavailable("reading the stored forecast failed", "try again shortly") from None
    finally:
        conn.close()
