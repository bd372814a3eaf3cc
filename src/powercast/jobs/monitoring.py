"""Drift report and forecast quality: the monitoring jobs the hourly and five-minute DAGs run."""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from powercast.config import Settings
from powercast.db.connection import connect
from powercast.errors import PowercastError
from powercast.monitoring.quality import QualityRun

log = logging.getLogger(__name__)
HISTORY_MARGIN = timedelta(minutes=90)  # minutes before a window that its derived features look back on


@dataclass(frozen=True)
class DriftReport:
    """One drift check as recorded in `drift_reports` (`report_id`), with the decision and why."""

    report_id: int
    decision: str
    reason: str
    window_start: datetime
    window_end: datetime
    model_version: str | None
    drifted_share: float | None
    top_features: list[dict] = field(default_factory=list)
    error_ratio: float | None = None
    rejected_rate: float = 0.0
    report_uri: str | None = None
    notes: list[str] = field(default_factory=list)


def score_forecast_quality(settings: Settings, now: datetime | None = None) -> QualityRun:
    """Score the forecast steps whose minute has passed against the actual power, into `forecast_quality`."""
    from powercast.monitoring.quality import score_matured

    conn = connect(settings.app_database_url)
    try:
        return score_matured(conn, now or datetime.now(UTC))
    finally:
        conn.close()


def drift_report(
    settings: Settings,
    *,
    hours: float | None = None,
    drift_share: float | None = None,
    error_limit: float | None = None,
    now: datetime | None = None,
    reference: tuple[datetime, datetime] | None = None,
) -> DriftReport:
    """Compare the last `hours` before `now` with the champion's training window (or `reference`), store the
    HTML report in MLflow and a summary row in `drift_reports`; the decision says whether to retrain. Never
    raises on missing data. Unset thresholds and window come from the settings."""
    from powercast.monitoring import reports
    from powercast.monitoring.drift import DriftResult, compare, decide, same_times_of_week
    from powercast.monitoring.quality import matured_error

    hours = settings.drift_window_hours if hours is None else hours
    drift_share = settings.drift_share if drift_share is None else drift_share
    error_limit = settings.drift_error_ratio if error_limit is None else error_limit
    end = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
    start = end - timedelta(hours=hours)
    champion, notes = _champion(settings)
    ref_start, ref_end = reference or _reference_window(champion)
    conn = connect(settings.app_database_url)
    try:
        current = _features(conn, start, end)
        if ref_start is None:
            notes.append("no champion training window to compare with")
            result = DriftResult(None, current_rows=len(current))
        else:
            reference = same_times_of_week(_features(conn, ref_start, ref_end), current)
            notes += _machines_without_reference(reference, current)
            predictions = _predictions(conn, start, end)
            result = compare(
                reference,
                current,
                reference_predictions=predictions[0],
                current_predictions=predictions[1],
            )
        result.notes[:0] = notes
        current_mae, _ = matured_error(conn, start, end)
        reference_mae = _float(champion.tags.get("cv_mae")) if champion else None
        ratio = current_mae / reference_mae if current_mae is not None and reference_mae else None
        rejected = _rejected_rate(conn, start, end)
        decision, reason = decide(result, ratio, drift_share=drift_share, error_limit=error_limit)
        uri = _store_html(settings, result, start, end, result.notes)
        report_id = reports.record(
            conn,
            result,
            window=(start, end),
            reference=(ref_start, ref_end),
            model_version=champion.version if champion else None,
            errors=(current_mae, reference_mae, ratio),
            rejected_rate=rejected,
            decision=decision,
            reason=reason,
            report_uri=uri,
        )
    finally:
        conn.close()
    log.info("drift report %s: %s (%s)", report_id, decision, reason)
    return DriftReport(
        report_id,
        decision,
        reason,
        start,
        end,
        champion.version if champion else None,
        result.drifted_share,
        [f.__dict__ for f in result.top()],
        ratio,
        rejected,
        uri,
        result.notes,
    )


def record_trigger(settings: Settings, report_id: int, run_id: str) -> None:
    """Note on a drift report the training run it triggered."""
    from powercast.monitoring import reports

    conn = connect(settings.app_database_url)
    try:
        reports.mark_triggered(conn, report_id, run_id)
    finally:
        conn.close()


def _champion(settings: Settings):
    from powercast import registry
    from powercast.names import CHAMPION_ALIAS

    try:
        return registry.version_by_alias(registry.connect(settings), CHAMPION_ALIAS), []
    except Exception as exc:  # the registry down: the report says so and compares nothing
        return None, [f"the model registry could not be read ({str(exc).splitlines()[0][:200]})"]


def _reference_window(champion) -> tuple[datetime | None, datetime | None]:
    if champion is None or not champion.tags.get("data_start") or not champion.tags.get("data_end"):
        return None, None
    import pandas as pd

    return (
        pd.Timestamp(champion.tags["data_start"]).to_pydatetime(),
        pd.Timestamp(champion.tags["data_end"]).to_pydatetime() + timedelta(minutes=1),
    )


def _features(conn, start: datetime, end: datetime):
    """Drift features of the minutes in [start, end), derived with the history before `start` they need."""
    import pandas as pd

    from powercast.features.tables import load_minute_frame
    from powercast.monitoring.drift import KEY_COLUMNS, drift_features

    try:
        frame = load_minute_frame(conn, start=start - HISTORY_MARGIN, end=end)
    except PowercastError:  # no minutes in range
        return pd.DataFrame(columns=list(KEY_COLUMNS))
    features = drift_features(frame)
    return features[features["ts"] >= pd.Timestamp(start)].reset_index(drop=True)


def _machines_without_reference(reference, current) -> list[str]:
    missing = sorted(set(current["machine_id"]) - set(reference["machine_id"]))
    return [f"no reference data for {len(missing)} machine(s): {', '.join(missing[:10])}"] if missing else []


def _predictions(conn, start: datetime, end: datetime):
    """The first-step forecasts issued in the window before [start, end) and in it."""
    import pandas as pd

    from powercast.names import FORECASTS_TABLE

    query = f"SELECT yhat FROM {FORECASTS_TABLE} WHERE step = 1 AND issue_ts >= %s AND issue_ts < %s"  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
    out = []
    for lo, hi in ((start - (end - start), start), (start, end)):
        with conn.cursor() as cur:
            cur.execute(query, (lo, hi))
            out.append(pd.Series([r[0] for r in cur.fetchall()], dtype=float))
    return out


def _rejected_rate(conn, start: datetime, end: datetime) -> float:
    """Share of the forecasts issued in the window and labelled by operators that they marked incorrect (0
    without labels)."""
    from powercast.feedback.store import rejected_rate

    rate = rejected_rate(conn, start, end)
    return 0.0 if rate is None else float(rate)


def _store_html(settings: Settings, result, start: datetime, end: datetime, notes: list[str]) -> str | None:
    """Evidently's HTML as an artifact of a run in the monitoring experiment; None (with a note) if impossible."""
    if result.snapshot is None:
        return None
    try:
        import mlflow

        from powercast import registry
        from powercast.names import MONITORING_EXPERIMENT

        registry.connect(settings)
        mlflow.set_experiment(MONITORING_EXPERIMENT)
        with tempfile.TemporaryDirectory() as tmp, mlflow.start_run(run_name=f"drift {end:%Y-%m-%d %H:%M}") as run:
            path = Path(tmp) / "drift_report.html"
            result.snapshot.save_html(str(path))
            mlflow.log_artifact(str(path))
            mlflow.log_params({"window_start": start.isoformat(), "window_end": end.isoformat()})
            if result.drifted_share is not None:
                mlflow.log_metric("drifted_share", result.drifted_share)
            return f"{run.info.artifact_uri}/drift_report.html"
    except Exception as exc:
        notes.append(f"the HTML report could not be stored in MLflow ({str(exc).splitlines()[0][:200]})")
        return None


def _float(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
