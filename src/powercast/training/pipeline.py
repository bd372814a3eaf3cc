"""Train and compare forecasters: cross-validate each, refit on all data, summarise.

`train_models` is what `powercast train`, `powercast backtest`, the accuracy benchmark and (with MLflow logging
around it) the training DAG call. Persistence is always cross-validated too: every ratio to persistence is
measured on the same issues.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import pandas as pd

from powercast.errors import PowercastError
from powercast.features.spec import FeatureSpec
from powercast.models.base import Forecaster
from powercast.models.catalog import make_forecaster
from powercast.models.cv import cross_validate
from powercast.models.frame import model_frame
from powercast.training.metrics import METRIC_COLUMNS, metrics_table

log = logging.getLogger(__name__)
LEARNED = ("xgb", "lstm")


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


def build_forecaster(name: str, spec: FeatureSpec, params: dict | None = None) -> Forecaster:
    """A forecaster of `name`; the learned models get the feature spec."""
    params = dict(params or {})
    if name in LEARNED:
        params.setdefault("spec", spec)
    return make_forecaster(name, horizon=spec.horizon, **params)


def train_models(
    frame: pd.DataFrame,
    model_names: list[str],
    n_windows: int = 3,
    spec: FeatureSpec | None = None,
    params: dict[str, dict] | None = None,
    refit: bool = True,
    progress: bool = False,
    sample_weight: pd.DataFrame | None = None,
    **cv_options,
) -> TrainingReport:
    """Cross-validate each model (expanding window), refit it on all data, and summarise per model.

    `sample_weight` (machine_id, ts, weight; see `powercast.models.base`) weights the target buckets of every fit of
    the models that support it (CV folds and the refit); the others, and all scoring, ignore it."""
    spec = spec or FeatureSpec()
    frame = model_frame(frame)
    if not model_names:
        raise PowercastError("no models to train", "name at least one, e.g. --models xgb,lstm")
    evaluated = list(dict.fromkeys(["persistence", *model_names]))
    cv, metrics, models, timings = {}, {}, {}, {}
    for name in evaluated:
        forecaster = build_forecaster(name, spec, (params or {}).get(name))
        weighted = sample_weight is not None and not sample_weight.empty and forecaster.supports_sample_weight
        started = time.perf_counter()
        cv[name] = cross_validate(
            WeightedFit(forecaster, sample_weight) if weighted else forecaster,
            frame,
            n_windows=n_windows,
            horizon=spec.horizon,
            progress=progress,
            **cv_options,
        )
        timings[name] = {"cv_s": time.perf_counter() - started}
        metrics[name] = metrics_table(cv[name])
        if refit and name in model_names:
            started = time.perf_counter()
            models[name] = forecaster.fit(frame, sample_weight=sample_weight) if weighted else forecaster.fit(frame)
            timings[name]["refit_s"] = time.perf_counter() - started
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
    )


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
