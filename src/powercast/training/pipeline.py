"""Train and compare forecasters: cross-validate each, refit on all data, summarise.

`train_models` is what `powercast train`, `powercast backtest`, the accuracy benchmark and (with MLflow logging
around it) the training DAG call. Persistence is always cross-validated too: every ratio to persistence is
measured on the same issues.

The learned models (XGBoost, the LSTM, their ensemble) are calibrated on their cross-validation
(`powercast.models.calibration`): per step, a blend weight with persistence and split-conformal band offsets. Their
reported CV metrics are those of the calibrated forecasts, each fold calibrated on the other folds only
(`raw_metrics` keeps the model's own); the refitted model carries the calibration learned on all folds. The
ensemble's CV is the mean of its members' CV forecasts when they were cross-validated in the same run (the same fits).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import pandas as pd

from powercast.errors import PowercastError
from powercast.features.spec import FeatureSpec
from powercast.models.base import Forecaster
from powercast.models.calibration import StepCalibration, cross_fitted
from powercast.models.catalog import make_forecaster
from powercast.models.cv import cross_validate
from powercast.models.ensemble import EnsembleForecaster
from powercast.models.frame import model_frame
from powercast.training.metrics import METRIC_COLUMNS, metrics_table

log = logging.getLogger(__name__)
LEARNED = ("xgb", "lstm", "ensemble")
MEMBERS = ("xgb", "lstm")  # the ensemble's


@dataclass
class TrainingReport:
    """What a training run produced: CV forecasts, metrics, a summary and the refitted models."""

    spec: FeatureSpec
    data_start: pd.Timestamp
    data_end: pd.Timestamp
    cv: dict[str, pd.DataFrame]
    metrics: dict[str, pd.DataFrame]
    summary: pd.DataFrame
    models: dict[str, Forecaster]
    best: str
    timings: dict[str, dict[str, float]] = field(default_factory=dict)  # per model: cv_s, refit_s
    calibrations: dict[str, StepCalibration] = field(default_factory=dict)  # learned models: from all CV folds
    raw_metrics: dict[str, pd.DataFrame] = field(default_factory=dict)  # learned models: CV metrics uncalibrated


def build_forecaster(name: str, spec: FeatureSpec, params: dict | None = None) -> Forecaster:
    """A forecaster of `name`; the learned models get the feature spec."""
    params = dict(params or {})
    if name in LEARNED:
        params.setdefault("spec", spec)
    return make_forecaster(name, horizon=spec.horizon, **params)


def ensemble_cv(member_cvs: list[pd.DataFrame]) -> pd.DataFrame:
    """The ensemble's CV forecasts from its members' CV forecasts on the same folds and issues: the mean of theirs."""
    keys = ["fold", "machine_id", "issue_ts", "step"]
    first = member_cvs[0].sort_values(keys).reset_index(drop=True)
    others = [cv.sort_values(keys).reset_index(drop=True) for cv in member_cvs[1:]]
    if any(len(o) != len(first) or not (o[keys].to_numpy() == first[keys].to_numpy()).all() for o in others):
        raise PowercastError("the ensemble's members were cross-validated on different issues")
    out = first.copy()
    for column in ("yhat", "yhat_lo", "yhat_hi"):
        out[column] = sum(cv[column].to_numpy(float) for cv in [first, *others]) / (1 + len(others))
    return out


def train_models(
    frame: pd.DataFrame,
    model_names: list[str],
    n_windows: int = 3,
    spec: FeatureSpec | None = None,
    params: dict[str, dict] | None = None,
    refit: bool = True,
    progress: bool = False,
    sample_weight: pd.DataFrame | None = None,
    calibrate: bool = True,
    **cv_options,
) -> TrainingReport:
    """Cross-validate each model (expanding window), refit it on all data, and summarise per model.

    `sample_weight` (machine_id, ts, weight; see `powercast.models.base`) weights the target buckets of every fit of
    the models that support it (CV folds and the refit); the others, and all scoring, ignore it. `calibrate` False
    leaves the learned models uncalibrated (their own forecasts)."""
    spec = spec or FeatureSpec()
    frame = model_frame(frame)
    if not model_names:
        raise PowercastError("no models to train", "name at least one, e.g. --models xgb,lstm")
    evaluated = list(dict.fromkeys(["persistence", *model_names]))
    if "ensemble" in evaluated:  # its members first, so that their CV gives the ensemble's
        evaluated = [n for n in evaluated if n != "ensemble"] + ["ensemble"]
    cv, metrics, models, timings, calibrations, raw_metrics, raw_cv = {}, {}, {}, {}, {}, {}, {}
    for name in evaluated:
        forecaster = build_forecaster(name, spec, _model_params(name, params))
        weighted = sample_weight is not None and not sample_weight.empty and forecaster.supports_sample_weight
        started = time.perf_counter()
        from_members = name == "ensemble" and all(m in raw_cv for m in MEMBERS)
        if from_members:
            cv[name] = ensemble_cv([raw_cv[m] for m in MEMBERS])
        else:
            cv[name] = cross_validate(
                WeightedFit(forecaster, sample_weight) if weighted else forecaster,
                frame,
                n_windows=n_windows,
                horizon=spec.horizon,
                progress=progress,
                **cv_options,
            )
        # the ensemble built from its members' CV cost what their CV cost
        timings[name] = {"cv_s": sum(timings[m]["cv_s"] for m in MEMBERS) if from_members else 0.0}
        timings[name]["cv_s"] += time.perf_counter() - started
        if name in LEARNED:
            raw_cv[name] = cv[name]
            raw_metrics[name] = metrics_table(cv[name])
            if calibrate:
                cv[name], calibrations[name] = cross_fitted(cv[name], spec.horizon, forecaster.quantiles)
        metrics[name] = metrics_table(cv[name])
        if refit and name in model_names:
            started = time.perf_counter()
            spent = 0.0
            if name == "ensemble" and all(m in models for m in MEMBERS):
                models[name] = EnsembleForecaster.of_fitted({m: models[m] for m in MEMBERS}, spec)
                spent = sum(timings[m]["refit_s"] for m in MEMBERS)
            else:
                models[name] = forecaster.fit(frame, sample_weight=sample_weight) if weighted else forecaster.fit(frame)
            models[name].set_calibration(calibrations.get(name))
            timings[name]["refit_s"] = spent + time.perf_counter() - started
        log.info(
            "%s: MAE %.1f, ratio to persistence %.3f",
            name,
            metrics[name].loc["overall", "mae"],
            metrics[name].loc["overall", "ratio_to_persistence"],
        )
    summary = summarise(metrics)
    requested = summary.loc[model_names]
    if requested["mae"].isna().all():
        raise PowercastError(
            "no forecast in the cross-validation windows could be scored",
            f"the windows cover the end of the data ({frame['ts'].max()}); machines need power readings there "
            "and before each issue time",
        )
    return TrainingReport(
        spec=spec,
        data_start=frame["ts"].min(),
        data_end=frame["ts"].max(),
        cv=cv,
        metrics=metrics,
        summary=summary,
        models=models,
        best=str(requested["mae"].idxmin()),
        timings=timings,
        calibrations=calibrations,
        raw_metrics=raw_metrics,
    )


def _model_params(name: str, params: dict[str, dict] | None) -> dict:
    """The hyper-parameters of `name`; the ensemble's members get theirs too."""
    params = params or {}
    if name != "ensemble":
        return dict(params.get(name) or {})
    return {"member_params": {m: params[m] for m in MEMBERS if params.get(m)}, **(params.get(name) or {})}


class WeightedFit(Forecaster):
    """A forecaster whose every `fit` passes the same sample weights (so cross-validation folds use them too)."""

    def __init__(self, inner: Forecaster, sample_weight: pd.DataFrame):
        super().__init__(horizon=inner.horizon, quantiles=inner.quantiles)
        self.inner, self.sample_weight = inner, sample_weight
        self.name = inner.name

    def fit(self, frame: pd.DataFrame) -> WeightedFit:
        self.inner.fit(frame, sample_weight=self.sample_weight)
        return self

    def predict(self, frame: pd.DataFrame, issue_times=None) -> pd.DataFrame:
        return self.inner.predict(frame, issue_times)

    def params(self) -> dict:
        return self.inner.params()


def summarise(metrics: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per model: its overall metrics (and the MAE ratio at the last step)."""
    rows = {}
    for name, table in metrics.items():
        overall = table.loc["overall", METRIC_COLUMNS]
        steps = table.drop(index="overall")
        rows[name] = {
            **overall.to_dict(),
            "ratio_last_step": float(steps["ratio_to_persistence"].iloc[-1]) if len(steps) else float("nan"),
        }
    summary = pd.DataFrame.from_dict(rows, orient="index")
    summary.index.name = "model"
    return summary
