"""Train and register: cross-validate forecasters on `features_1m`, refit them, log the run to MLflow and
register the best as the `challenger`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from powercast.config import Settings
from powercast.errors import PowercastError
from powercast.jobs.results import NOT_IN_SUMMARY
from powercast.training.defaults import DEFAULT_HOLDOUT_HOURS

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
    as_challenger: bool = True,
    triggered_by: str = "cli",
    progress: bool = False,
) -> TrainingRun:
    """Cross-validate `models` on the last `days` of features (all but the latest `holdout_hours`, kept for
    promotion), refit them, and with `register` (None: when the MLflow server answers) log the run with the best
    model; `as_challenger` also registers that model as the challenger (else `register_best` can, later)."""
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
            report,
            settings,
            frame=frame,
            n_windows=windows,
            register=as_challenger,
            triggered_by=triggered_by,
            feedback=data.feedback,
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


@dataclass(frozen=True)
class Registered:
    """The training run whose model became the challenger, and its registry version."""

    run_id: str
    model: str
    version: str
    mae: float


def register_best(
    settings: Settings, candidates: Sequence[Mapping[str, object]], *, triggered_by: str = "cli"
) -> Registered:
    """Register, as the challenger, the model of the candidate run with the lowest cross-validation MAE.

    `candidates` are `as_dict(TrainingRun)` of runs logged with `as_challenger=False` (one per model, trained
    in parallel), all on the same data, so their MAEs compare."""
    from powercast.training.tracking import register_logged_model

    logged = [c for c in candidates if c.get("run_id")]
    if not logged:
        raise PowercastError("no candidate training run was logged to MLflow", "check that the MLflow server answers")
    best = min(logged, key=lambda c: c["metrics"][c["best"]]["mae"])
    tracked = register_logged_model(settings, str(best["run_id"]), triggered_by=triggered_by)
    return Registered(tracked.run_id, tracked.model_name, str(tracked.version), best["metrics"][best["best"]]["mae"])


def new_feature_minutes(settings: Settings) -> int:
    """Minutes of features per machine that arrived after the newest registered version's training data (all of
    them when no version exists): what the asset-driven retraining waits for."""
    from powercast import registry
    from powercast.db.connection import connect
    from powercast.names import FEATURES_TABLE

    data_end = registry.latest_data_end(registry.connect(settings))
    conn = connect(settings.app_database_url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                f"SELECT count(*) / greatest(count(DISTINCT machine_id), 1) FROM {FEATURES_TABLE} WHERE ts > %s",  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
                (data_end or datetime.min.replace(tzinfo=UTC),),
            )
            return int(cur.fetchone()[0])
    finally:
        conn.close()


def training_is_due(settings: Settings) -> bool:
    """True when `retrain_after_minutes` new feature minutes per machine arrived since the last training (False,
    with a warning, while the registry cannot be read: training would fail anyway)."""
    import logging

    try:
        minutes = new_feature_minutes(settings)
    except PowercastError as exc:
        logging.getLogger(__name__).warning("training not started: %s", exc)
        return False
    return minutes >= settings.retrain_after_minutes
