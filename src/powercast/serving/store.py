"""Reads of recent readings and writes of issued forecasts (PostgreSQL), kept apart from scoring logic."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from psycopg2.extras import execute_values

from powercast.names import FORECASTS_TABLE, MACHINES_TABLE, READINGS_TABLE


def active_machines(conn, since: pd.Timestamp, until: pd.Timestamp) -> list[str]:
    """Machines with at least one power reading in [since, until)."""
    with conn.cursor() as cur:
        cur.execute(
            f"SELECT DISTINCT machine_id FROM {READINGS_TABLE} "
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
        f"SELECT r.machine_id, r.sensor, r.ts, r.value, m.machine_type, m.rated_power_w "
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
        """,
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
            ORDER BY step""",
            (machine_id, machine_id),
        )
        rows = cur.fetchall()
    return pd.DataFrame(
        rows,
        columns=["machine_id", "issue_ts", "step", "ts", "yhat", "yhat_lo", "yhat_hi", "model_name", "model_version"],
    )


def _opt(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)
