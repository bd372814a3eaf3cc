"""Forecast quality: every forecast step whose minute has passed, scored against the actual one-minute power.

The actual is the minute's mean power in `features_1m`. A late reading that changes a minute's mean also
changes its score: each run rescans the last `RESCORE` before its newest scored minute.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from powercast.names import FEATURES_TABLE, FORECAST_QUALITY_TABLE, FORECASTS_TABLE

RESCORE = timedelta(hours=1)

_SCORE = f"""
WITH scored AS (
    INSERT INTO {FORECAST_QUALITY_TABLE} AS q
        (machine_id, issue_ts, step, ts, model_name, model_version, yhat, yhat_lo, yhat_hi, actual, abs_error,
         inside_band)
    SELECT f.machine_id, f.issue_ts, f.step, f.ts, f.model_name, f.model_version, f.yhat, f.yhat_lo, f.yhat_hi,
           a.power_mean, abs(f.yhat - a.power_mean),
           CASE WHEN f.yhat_lo IS NULL OR f.yhat_hi IS NULL THEN NULL
                ELSE a.power_mean BETWEEN f.yhat_lo AND f.yhat_hi END
    FROM {FORECASTS_TABLE} f
    JOIN {FEATURES_TABLE} a ON a.machine_id = f.machine_id AND a.ts = f.ts
    WHERE f.ts >= %(since)s AND f.ts + interval '1 minute' <= %(now)s AND a.power_mean IS NOT NULL
    ON CONFLICT (machine_id, issue_ts, step) DO UPDATE SET
        actual = EXCLUDED.actual, abs_error = EXCLUDED.abs_error, inside_band = EXCLUDED.inside_band,
        yhat = EXCLUDED.yhat, yhat_lo = EXCLUDED.yhat_lo, yhat_hi = EXCLUDED.yhat_hi,
        model_name = EXCLUDED.model_name, model_version = EXCLUDED.model_version, scored_at = now()
    WHERE (q.actual, q.yhat, q.model_version) IS DISTINCT FROM (EXCLUDED.actual, EXCLUDED.yhat, EXCLUDED.model_version)
    RETURNING step, abs_error
)
SELECT step, count(*), avg(abs_error) FROM scored GROUP BY step ORDER BY step
"""  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters


@dataclass(frozen=True)
class QualityRun:
    """What one scoring run wrote: rows per horizon step and their MAE (W), from `since` to `now`."""

    since: datetime
    now: datetime
    rows: int
    mae_by_step: dict[int, float]


def score_matured(conn, now: datetime) -> QualityRun:
    """Score every matured forecast step not scored yet (and rescore the last hour); commits."""
    with conn.cursor() as cur:
        cur.execute(f"SELECT max(ts) FROM {FORECAST_QUALITY_TABLE}")  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
        newest = cur.fetchone()[0]
        since = newest - RESCORE if newest is not None else datetime.min.replace(tzinfo=now.tzinfo)
        cur.execute(_SCORE, {"since": since, "now": now})
        rows = cur.fetchall()
    conn.commit()
    return QualityRun(since, now, sum(r[1] for r in rows), {int(r[0]): float(r[2]) for r in rows})


def matured_error(conn, start: datetime, end: datetime) -> tuple[float | None, int]:
    """MAE (W) and count of the scored forecast steps whose minute lies in [start, end)."""
    with conn.cursor() as cur:
        cur.execute(
            f"SELECT avg(abs_error), count(*) FROM {FORECAST_QUALITY_TABLE} WHERE ts >= %s AND ts < %s",  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
            (start, end),
        )
        mae, n = cur.fetchone()
    return (float(mae) if mae is not None else None), int(n)
