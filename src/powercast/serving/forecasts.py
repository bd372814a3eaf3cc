"""Writes and reads of issued forecasts (the `forecasts` table in PostgreSQL)."""

from __future__ import annotations

import logging

import pandas as pd
import psycopg2
from psycopg2.extras import execute_values

from powercast.db.connection import connect
from powercast.errors import PowercastError
from powercast.names import FORECASTS_TABLE
from powercast.serving.replies import Unavailable

log = logging.getLogger(__name__)
READ_TIMEOUT_S = 3


def write_forecasts(conn, forecast: pd.DataFrame, model_name: str, model_version: str) -> int:
    """Upsert a forecast frame (one row per machine, issue minute, step); returns the rows written."""
    if forecast.empty:
        return 0
    rows = [
        (
            r.machine_id,
            r.issue_ts.to_pydatetime(),
            int(r.step),
            r.ts.to_pydatetime(),
            float(r.yhat),
            _opt(r.yhat_lo),
            _opt(r.yhat_hi),
            model_name,
            str(model_version),
        )
        for r in forecast.itertuples(index=False)
    ]
    with conn.cursor() as cur:
        execute_values(
            cur,
            f"""
            INSERT INTO {FORECASTS_TABLE}
                (machine_id, issue_ts, step, ts, yhat, yhat_lo, yhat_hi, model_name, model_version)
            VALUES %s
            ON CONFLICT (machine_id, issue_ts, step) DO UPDATE SET
                ts = EXCLUDED.ts, yhat = EXCLUDED.yhat, yhat_lo = EXCLUDED.yhat_lo, yhat_hi = EXCLUDED.yhat_hi,
                model_name = EXCLUDED.model_name, model_version = EXCLUDED.model_version, created_at = now()
        """,  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
            rows,
            page_size=1000,
        )
    conn.commit()
    return len(rows)


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


def _opt(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)
