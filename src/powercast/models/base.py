"""The one forecaster interface every model implements.

Frames
------
*Minute frame* (input to `fit` and `predict`): one row per machine and one-minute bucket, columns
`machine_id` (str), `ts` (tz-aware UTC, the bucket's start) and `power` (mean W in the bucket, NaN when the
bucket had no reading); other columns (other sensors' aggregates, machine attributes) are optional and are
used only when present.

*Forecast frame* (output of `predict`): one row per machine, issue time and step, columns
`machine_id`, `issue_ts`, `step` (1..horizon), `ts` (= issue_ts + (step - 1) minutes, the target bucket),
`yhat`, `yhat_lo`, `yhat_hi` (the lower and upper quantiles of `quantiles`).

Sample weights (optional, XGBoost and LSTM): a frame `machine_id, ts, weight` weighting *target buckets*: every
training sample (issue T, step k) whose target bucket T + (k - 1) min is listed gets that weight; weight 0 drops the
sample from the targets. Buckets not listed weigh 1; without weights training is exactly as before.

Time semantics: a forecast issued at minute boundary T uses only buckets with ts < T, and step k forecasts the
bucket starting at T + (k - 1) minutes. `backtest` (time-series cross-validation) lives in
`powercast.models.cv` and is reachable from every forecaster through `Forecaster.backtest`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import pandas as pd

from powercast.features.spec import HORIZON
from powercast.models.calibration import StepCalibration
from powercast.models.frame import QUANTILES


class Forecaster(ABC):
    """fit on a minute frame, predict forecast frames, backtest with expanding-window cross-validation."""

    name: ClassVar[str]
    supports_sample_weight: ClassVar[bool] = False  # fit(frame, sample_weight=...) accepted
    calibration_: StepCalibration | None = None  # per-step blend with persistence and band offsets (learned models)

    def __init__(self, horizon: int = HORIZON, quantiles: tuple[float, float] = QUANTILES):
        self.horizon = horizon
        self.quantiles = quantiles

    @abstractmethod
    def fit(self, frame: pd.DataFrame) -> Forecaster:
        """Learn from a minute frame (all machines: one global model). Returns self."""

    @abstractmethod
    def predict(self, frame: pd.DataFrame, issue_times: Sequence[pd.Timestamp] | None = None) -> pd.DataFrame:
        """Forecast frame for each machine at each issue time (default: the minute after its last bucket)."""

    def backtest(self, frame: pd.DataFrame, n_windows: int = 3, **kwargs) -> pd.DataFrame:
        """Expanding-window cross-validation of a fresh copy of this forecaster; see powercast.models.cv."""
        from powercast.models.cv import cross_validate

        return cross_validate(self, frame, n_windows=n_windows, horizon=self.horizon, **kwargs)

    def params(self) -> dict:
        """Hyper-parameters worth logging."""
        return {"horizon": self.horizon, "quantiles": list(self.quantiles)}

    def set_calibration(self, calibration: StepCalibration | None) -> Forecaster:
        """Use `calibration` (learned on this model's cross-validation, `powercast.models.calibration`) in every
        later forecast; None forecasts with the model alone. Returns self."""
        if calibration is not None and calibration.horizon != self.horizon:
            raise ValueError(f"calibration horizon {calibration.horizon} differs from {self.horizon}")
        self.calibration_ = calibration
        return self

    def _calibrated(self, watts: np.ndarray, last: np.ndarray, scale: np.ndarray) -> np.ndarray:
        """Forecasts [n, horizon, 3] (lo, median, hi) in W with the calibration applied (unchanged without one)."""
        if self.calibration_ is None:
            return watts
        lo, point, hi = self.calibration_.apply(watts[..., 0], watts[..., 1], watts[..., 2], last, scale)
        return np.stack([lo, point, hi], axis=-1)


SAMPLE_WEIGHT_COLUMNS = ["machine_id", "ts", "weight"]


def target_weights(sample_weight: pd.DataFrame | None, index: pd.DataFrame, horizon: int) -> np.ndarray | None:
    """The weight [n, horizon] of each issue's (rows of `index`: machine_id, issue_ts) target bucket at each step,
    from a `machine_id, ts, weight` frame (1 where a bucket is not listed); None when there are no weights."""
    if sample_weight is None or sample_weight.empty:
        return None
    weights = sample_weight.assign(
        machine_id=sample_weight["machine_id"].astype(str), ts=pd.to_datetime(sample_weight["ts"], utc=True)
    ).set_index(["machine_id", "ts"])["weight"]
    weights = weights.groupby(level=[0, 1]).min()
    machines = np.repeat(index["machine_id"].astype(str).to_numpy(), horizon)
    issue = pd.DatetimeIndex(pd.to_datetime(index["issue_ts"], utc=True)).repeat(horizon)
    steps = np.tile(np.arange(horizon), len(index))
    keys = pd.MultiIndex.from_arrays([machines, issue + pd.to_timedelta(steps, unit="min")])
    found = weights.reindex(keys).to_numpy(float)
    return np.where(np.isnan(found), 1.0, found).reshape(len(index), horizon)
