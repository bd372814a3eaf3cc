"""Train and register: cross-validate forecasters on `features_1m`, refit them, log the run to MLflow and
register the best as the `challenger`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from powercast.config import Settings
from powercast.jobs.results import NOT_IN_SUMMARY
from powercast.training.holdout import DEFAULT_HOLDOUT_HOURS

SUMMARY_METRICS = ("mae", "ratio_to_persistence", "coverage")


@dataclass(frozen=True)
class TrainingRun:
    """What a training run produced: the best model, the MLflow run and version (None when not logged), each
    model's overall metrics; `report` (CV forecasts, refitted models) stays out of the summary."""

    best: str
    data_start: datetime
    data_end: datetime
    n_windows: int
    metrics: dict[str, dict[str, float]]
    run_id: str | None = None
    model_version: str | None = None
    note: str | None = None
    report: object = field(default=None, repr=False, compare=False, metadata=NOT_IN_SUMMARY)


def train_and_register(
    settings: Settings,
    *,
    models: Sequence[str] = ("xgb", "lstm"),
    days: float | None = 28.0,
    windows: int = 3,
    holdout_hours: float = DEFAULT_HOLDOUT_HOURS,
    issue_every: int = 15,
    register: bool | None = None,
    triggered_by: str = "cli",
    progress: bool = False,
) -> TrainingRun:
    """Cross-validate `models` on the last `days` of features (all but the latest `holdout_hours`, kept for
    promotion), refit them, and with `register` (None: when the MLflow server answers) log the run and register
    the best model as the challenger."""
    from powercast.models.catalog import parse_model_names
    from powercast.training.feedback import load_training_data
    from powercast.training.pipeline import train_models
    from powercast.training.tracking import track_and_register, tracking_available

    names = parse_model_names(",".join(models))
    track, note = tracking_available(settings, register)  # checked before training, not after
    start = None if days is None else datetime.now(UTC) - timedelta(days=days)
    data = load_training_data(settings, start, holdout_hours)  # operators' labels weight the targets
    frame = data.frame
    report = train_models(
        frame, names, n_windows=windows, issue_every=issue_every, progress=progress, sample_weight=data.sample_weight
    )
    tracked = (
        track_and_register(
            report, settings, frame=frame, n_windows=windows, triggered_by=triggered_by, feedback=data.feedback
        )
        if track
        else None
    )
    return TrainingRun(
        best=report.best,
        data_start=report.data_start.to_pydatetime(),
        data_end=report.data_end.to_pydatetime(),
        n_windows=windows,
        metrics={
            name: {m: float(table.loc["overall", m]) for m in SUMMARY_METRICS} for name, table in report.metrics.items()
        },
        run_id=tracked.run_id if tracked else None,
        model_version=tracked.version if tracked else None,
        note=note,
        report=report,
    )
