"""The `drift_reports` table: one summary row per drift check."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime

from powercast.monitoring.drift import DriftResult
from powercast.names import DRIFT_REPORTS_TABLE


def record(
    conn,
    result: DriftResult,
    *,
    window: tuple[datetime, datetime],
    reference: tuple[datetime | None, datetime | None],
    model_version: str | None,
    errors: tuple[float | None, float | None, float | None],
    rejected_rate: float,
    decision: str,
    reason: str,
    report_uri: str | None,
) -> int:
    """Insert one report row; returns its id. `errors` is (current MAE, reference MAE, their ratio)."""
    current_mae, reference_mae, ratio = errors
    prediction = result.prediction_drift.score if result.prediction_drift else None
    with conn.cursor() as cur:
        cur.execute(
            f"""INSERT INTO {DRIFT_REPORTS_TABLE}
                (window_start, window_end, reference_start, reference_end, model_version, reference_rows,
                 current_rows, drifted_share, top_features, prediction_drift_score, current_mae, reference_mae,
                 error_ratio, rejected_rate, decision, reason, notes, report_uri)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
            (
                *window,
                *reference,
                model_version,
                result.reference_rows,
                result.current_rows,
                result.drifted_share,
                json.dumps([asdict(f) for f in result.top()]),
                prediction,
                current_mae,
                reference_mae,
                ratio,
                rejected_rate,
                decision,
                reason,
                json.dumps(result.notes),
                report_uri,
            ),
        )
        report_id = cur.fetchone()[0]
    conn.commit()
    return report_id


def mark_triggered(conn, report_id: int, run_id: str) -> None:
    """Record the training run a report triggered."""
    with conn.cursor() as cur:
        cur.execute(f"UPDATE {DRIFT_REPORTS_TABLE} SET triggered_run = %s WHERE id = %s", (run_id, report_id))  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
    conn.commit()


def latest(conn) -> dict | None:
    """The newest report as a dict (None when there is none)."""
    with conn.cursor() as cur:
        cur.execute(f"SELECT * FROM {DRIFT_REPORTS_TABLE} ORDER BY created_at DESC, id DESC LIMIT 1")  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
        row = cur.fetchone()
        names = [d[0] for d in cur.description]
    return dict(zip(names, row)) if row else None
