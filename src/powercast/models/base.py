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

Time semantics: a forecast issued at minute boundary T uses only buckets with ts < T, and step k forecasts the
bucket starting at T + (k - 1) minutes. `backtest` (time-series cross-validation) lives in
`powercast.models.cv` and is reachable from every forecaster through `Forecaster.backtest`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar

import pandas as pd

from powercast.features.spec import HORIZON
from powercast.models.frame import QUANTILES


class Forecaster(ABC):
    """fit on a minute frame, predict forecast frames, backtest with expanding-window cross-validation."""

    name: ClassVar[str]

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
