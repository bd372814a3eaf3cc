"""Log a training run to MLflow and register its best candidate as the `challenger`.

One MLflow run per `powercast train`: parameters, the feature spec, the data window and the feature snapshot
(as a dataset input and a Parquet artifact), cross-validated metrics per fold and per horizon step for every
model (for the learned models: calibrated, and their own as `NAME.raw_*`), each learned model's per-step calibration
(blend weight with persistence, band offsets) as parameters, plots, and the best model as a pyfunc
(`powercast.scoring.model.ForecasterModel`) registered under `powercast.names.REGISTERED_MODEL` with the alias
`challenger`.
"""

from __future__ import annotations

import logging
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from powercast import registry
from powercast.config import Settings
from powercast.names import CHALLENGER_ALIAS, MLFLOW_EXPERIMENT, REGISTERED_MODEL
from powercast.scoring.model import machine_attributes, required_minutes

if TYPE_CHECKING:
    from powercast.training.pipeline import TrainingReport

log = logging.getLogger(__name__)
EXAMPLE_MACHINES = 1


@dataclass(frozen=True)
class TrackedRun:
    run_id: str
    model_name: str
    version: str | None

    @property
    def model_uri(self) -> str | None:
        return f"models:/{REGISTERED_MODEL}/{self.version}" if self.version else None


def flat_params(report: TrainingReport, n_windows: int | None = None) -> dict[str, object]:
    """Run parameters: models, best, data window, the spec and each model's hyper-parameters."""
    params: dict[str, object] = {
        "models": ",".join(report.models),
        "best_model": report.best,
        "data_start": str(report.data_start),
        "data_end": str(report.data_end),
    }
    if n_windows is not None:
        params["cv_windows"] = n_windows
    for key, value in report.spec.to_dict().items():
        params[f"spec.{key}"] = value
    for name, forecaster in report.models.items():
        for key, value in forecaster.params().items():
            params[f"{name}.{key}"] = value
    for name, calibration in report.calibrations.items():
        params.update(calibration.to_params(name))
    return {k: (str(v)[:500] if not isinstance(v, (int, float)) else v) for k, v in params.items()}


def cv_metric_series(cv: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Metrics tables of one model's CV predictions: per horizon step and per fold (each with `overall`)."""
    from powercast.training.metrics import metrics_table

    return {"step": metrics_table(cv, by="step"), "fold": metrics_table(cv, by="fold")}


def _log_metric_tables(name: str, tables: dict[str, pd.DataFrame]) -> None:
    import mlflow

    overall = tables["step"].loc["overall"]
    mlflow.log_metrics(
        {f"{name}.{metric}": float(value) for metric, value in overall.items() if metric != "n" and _finite(value)}
    )
    for by, table in tables.items():
        for key, row in table.drop(index="overall", errors="ignore").iterrows():
            for metric in ("mae", "rmse", "coverage", "ratio_to_persistence"):
                if _finite(row[metric]):
                    mlflow.log_metric(f"{name}.{metric}_by_{by}", float(row[metric]), step=int(key))


def _log_raw_metrics(name: str, table: pd.DataFrame) -> None:
    """A learned model's own (uncalibrated) CV metrics: `NAME.raw_METRIC` overall, `NAME.raw_METRIC_by_step`."""
    import mlflow

    metrics = ("mae", "coverage", "ratio_to_persistence")
    overall = table.loc["overall"]
    mlflow.log_metrics({f"{name}.raw_{m}": float(overall[m]) for m in metrics if _finite(overall[m])})
    for step, row in table.drop(index="overall", errors="ignore").iterrows():
        for m in metrics:
            if _finite(row[m]):
                mlflow.log_metric(f"{name}.raw_{m}_by_step", float(row[m]), step=int(step))


def _finite(value) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def feature_importance(forecaster) -> pd.Series | None:
    """Gain importance per feature when the forecaster holds an XGBoost model, else None."""
    getter = getattr(forecaster, "feature_importance", None)
    if callable(getter):
        result = getter()
        return pd.Series(result, dtype=float) if result is not None else None
    booster = getattr(forecaster, "booster_", None)
    if booster is not None and hasattr(booster, "get_booster"):
        scores = booster.get_booster().get_score(importance_type="gain")
        return pd.Series(scores, dtype=float) if scores else None
    return None


def readings_example(frame: pd.DataFrame, minutes: int) -> pd.DataFrame:
    """Long readings for the last `minutes` buckets of the first machine: the logged input example."""
    machine = sorted(frame["machine_id"].astype(str).unique())[:EXAMPLE_MACHINES]
    part = frame[frame["machine_id"].astype(str).isin(machine)].sort_values("ts").tail(minutes)
    sensors = [s for s in ("power", "temperature", "vibration", "pressure") if s in part.columns]
    long = part.melt(id_vars=["machine_id", "ts"], value_vars=sensors, var_name="sensor", value_name="value")
    long = long.dropna(subset=["value"]).sort_values(["machine_id", "ts", "sensor"]).reset_index(drop=True)
    long["machine_id"] = long["machine_id"].astype(str)
    long["ts"] = pd.to_datetime(long["ts"], utc=True).map(pd.Timestamp.isoformat)
    for attr, kind in (("machine_type", str), ("rated_power_w", float)):
        if attr in part.columns:
            values = long["machine_id"].map(part.groupby(part["machine_id"].astype(str))[attr].first())
            long[attr] = values.astype(kind)
    return long[
        ["machine_id", "sensor", "ts", "value", *[c for c in ("machine_type", "rated_power_w") if c in long.columns]]
    ]


def _log_plots(report: TrainingReport, per_step: dict[str, pd.DataFrame]) -> None:
    import matplotlib.pyplot as plt
    import mlflow

    from powercast.training import plots

    figures = {"plots/error_by_horizon.png": plots.error_by_horizon(per_step)}
    best_cv = report.cv.get(report.best)
    if best_cv is not None and not best_cv.empty:
        figures["plots/forecast_vs_actual.png"] = plots.forecast_vs_actual(best_cv, report.best)
    for name, forecaster in report.models.items():
        importance = feature_importance(forecaster)
        if importance is not None and not importance.empty:
            figures[f"plots/feature_importance_{name}.png"] = plots.feature_importance(importance)
    for path, fig in figures.items():
        mlflow.log_figure(fig, path)
        plt.close(fig)


def _log_snapshot(frame: pd.DataFrame, report: TrainingReport) -> None:
    """The minute frame trained on: a dataset input (schema, digest, window) and a Parquet artifact."""
    import mlflow
    from mlflow.data.code_dataset_source import CodeDatasetSource

    from powercast.names import FEATURES_TABLE

    source = CodeDatasetSource(
        {
            "table": FEATURES_TABLE,
            "start": str(report.data_start),
            "end": str(report.data_end),
            "rows": str(len(frame)),
            "machines": str(frame["machine_id"].nunique()),
        }
    )
    dataset = mlflow.data.from_pandas(
        frame,
        name=f"{FEATURES_TABLE} {report.data_start:%Y-%m-%d %H:%M} .. {report.data_end:%Y-%m-%d %H:%M}",
        source=source,
    )
    mlflow.log_input(dataset, context="training", tags={"spec_hash": report.spec.hash()})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "feature_snapshot.parquet"
        frame.to_parquet(path, index=False)
        mlflow.log_artifact(str(path), artifact_path="data")


def log_forecaster_model(
    forecaster,
    model_name: str,
    spec,
    example: pd.DataFrame | None,
    register: bool,
    machines: pd.DataFrame | None = None,
):
    """Log `forecaster` as the pyfunc model of the active run (registered when `register`); MLflow's ModelInfo.

    `machines` (machine_id, machine_type, rated_power_w) fills the attributes of known machines when a request
    sends only readings."""
    import mlflow

    from powercast.scoring.model import ForecasterModel, required_minutes, signature

    wrapper = ForecasterModel(forecaster, spec.to_dict(), required_minutes(spec), model_name, machines)
    return mlflow.pyfunc.log_model(
        name="model",
        python_model=wrapper,
        signature=signature(),
        input_example=example,
        registered_model_name=REGISTERED_MODEL if register else None,
        pip_requirements=_requirements(),
        await_registration_for=60,
    )


def _requirements() -> list[str]:
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for package in ("mlflow", "pandas", "numpy", "cloudpickle", "xgboost", "scipy"):
        try:
            out.append(f"{package}=={version(package)}")
        except PackageNotFoundError:
            continue
    return out


def tracking_available(settings: Settings, required: bool | None) -> tuple[bool, str | None]:
    """Whether to log a training run: `required` True insists (one-line error when MLflow is down), False skips,
    None logs when the server answers. Returns (log it, a note for the user or None)."""
    from powercast.errors import PowercastError

    if required is False:
        return False, None
    try:
        registry.connect(settings)
    except PowercastError as exc:
        if required:
            raise
        return False, f"note: not logged to MLflow ({exc}); pass --no-register to silence this"
    return True, None


def track_and_register(
    report: TrainingReport,
    settings: Settings,
    *,
    frame: pd.DataFrame | None = None,
    n_windows: int | None = None,
    register: bool = True,
    run_name: str | None = None,
    triggered_by: str = "cli",
    feedback=None,
) -> TrackedRun:
    """Log `report` as one MLflow run; register its best model and give that version the `challenger` alias.

    `frame` is the minute frame the models were trained on: it becomes the run's dataset input, a Parquet
    artifact, and the source of the model's input example. `feedback` (the labels used) logs how many labels of
    each kind shaped the targets and the operator-rejected rate, overall and per model version.
    """
    import mlflow

    client = registry.connect(settings)
    mlflow.set_experiment(MLFLOW_EXPERIMENT)
    with mlflow.start_run(run_name=run_name) as run:
        mlflow.set_tags({"powercast.best_model": report.best, "powercast.triggered_by": triggered_by})
        mlflow.log_params(flat_params(report, n_windows))
        mlflow.log_dict(report.spec.to_dict(), "feature_spec.json")
        if frame is not None:
            _log_snapshot(frame, report)
        if feedback is not None:  # powercast.training.feedback.FeedbackSummary: label counts, rejected rate
            mlflow.log_metrics(feedback.metrics())
        per_step = {}
        for name, cv in report.cv.items():
            tables = cv_metric_series(cv)
            per_step[name] = tables["step"]
            _log_metric_tables(name, tables)
        for name, table in report.raw_metrics.items():
            _log_raw_metrics(name, table)
        mlflow.log_table(report.summary.reset_index(), "cv_summary.json")
        _log_plots(report, per_step)
        minutes = required_minutes(report.spec)
        example = readings_example(frame, minutes + 5) if frame is not None else None
        machines = machine_attributes(frame) if frame is not None else None
        info = log_forecaster_model(report.models[report.best], report.best, report.spec, example, register, machines)
        version = str(info.registered_model_version) if register and info.registered_model_version else None
    if version:
        best_mae = per_step[report.best].loc["overall", "mae"] if report.best in per_step else float("nan")
        make_challenger(
            settings,
            client,
            version,
            run_id=run.info.run_id,
            model_name=report.best,
            data_start=report.data_start,
            data_end=report.data_end,
            cv_mae=best_mae,
            triggered_by=triggered_by,
        )
    return TrackedRun(run.info.run_id, report.best, version)


def make_challenger(
    settings: Settings, client, version: str, *, run_id, model_name, data_start, data_end, cv_mae, triggered_by
) -> None:
    """Record the registered version's artifact digest, tag it with what promotion and drift read, and give it
    the `challenger` alias."""
    registry.record_digest(settings, version, run_id)
    registry.tag_version(
        client,
        version,
        {
            "model_name": model_name,
            "data_start": data_start,
            "data_end": data_end,
            "cv_mae": f"{cv_mae:.6g}",
            "triggered_by": triggered_by,
        },
    )
    registry.set_alias(client, CHALLENGER_ALIAS, version)
    log.info("registered %s version %s as %s", REGISTERED_MODEL, version, CHALLENGER_ALIAS)


def register_logged_model(settings: Settings, run_id: str, *, triggered_by: str = "cli") -> TrackedRun:
    """Register the model a training run logged without registering it, as the `challenger`."""
    import mlflow

    client = registry.connect(settings)
    run = client.get_run(run_id)
    best = run.data.params["best_model"]
    info = mlflow.register_model(f"runs:/{run_id}/model", REGISTERED_MODEL, await_registration_for=60)
    make_challenger(
        settings,
        client,
        str(info.version),
        run_id=run_id,
        model_name=best,
        data_start=run.data.params["data_start"],
        data_end=run.data.params["data_end"],
        cv_mae=float(run.data.metrics.get(f"{best}.mae", float("nan"))),
        triggered_by=triggered_by,
    )
    return TrackedRun(run_id, best, str(info.version))
