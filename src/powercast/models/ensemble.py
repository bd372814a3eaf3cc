"""Ensemble forecaster: the mean of its members' forecasts (default XGBoost and the LSTM), point and band.

The members forecast uncalibrated; the ensemble's own calibration (`set_calibration`, learned on the ensemble's
cross-validation) blends the mean with persistence per step and moves the band. Its last observed value is the
last power reading before the issue time, as in the cross-validation's `persistence` column.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import pandas as pd

from powercast.errors import PowercastError
from powercast.features.spec import HORIZON, FeatureSpec
from powercast.models.base import Forecaster
from powercast.models.frame import (
    FORECAST_COLUMNS,
    QUANTILES,
    forecast_frame,
    grids,
    last_observed_many,
    machine_scales,
    model_frame,
)

WATTS = ["yhat_lo", "yhat", "yhat_hi"]


class EnsembleForecaster(Forecaster):
    """Mean of member forecasters fitted on the same frame."""

    name = "ensemble"
    supports_sample_weight = True

    def __init__(
        self,
        members: Sequence[str] = ("xgb", "lstm"),
        member_params: dict[str, dict] | None = None,
        spec: FeatureSpec | None = None,
        horizon: int = HORIZON,
        quantiles: tuple[float, float] = QUANTILES,
    ):
        super().__init__(horizon=horizon, quantiles=quantiles)
        if len(members) < 2:
            raise ValueError("an ensemble needs at least two members")
        self.members = tuple(members)
        self.member_params = dict(member_params or {})
        self.spec = spec or FeatureSpec(horizon=horizon)

    @classmethod
    def of_fitted(cls, fitted: dict[str, Forecaster], spec: FeatureSpec) -> EnsembleForecaster:
        """An ensemble of already fitted members (used without their own calibrations)."""
        first = next(iter(fitted.values()))
        ensemble = cls(members=tuple(fitted), spec=spec, horizon=first.horizon, quantiles=first.quantiles)
        ensemble.fitted_ = {name: copy.copy(model).set_calibration(None) for name, model in fitted.items()}
        ensemble.scales_ = {k: v for model in fitted.values() for k, v in getattr(model, "scales_", {}).items()}
        return ensemble

    def fit(self, frame: pd.DataFrame, sample_weight: pd.DataFrame | None = None) -> EnsembleForecaster:
        from powercast.models.catalog import make_forecaster

        frame = model_frame(frame)
        self.fitted_ = {}
        for name in self.members:
            params = {"spec": self.spec, **self.member_params.get(name, {})}
            member = make_forecaster(name, horizon=self.horizon, quantiles=self.quantiles, **params)
            weighted = sample_weight is not None and member.supports_sample_weight
            self.fitted_[name] = member.fit(frame, sample_weight=sample_weight) if weighted else member.fit(frame)
        self.scales_ = machine_scales(frame)
        return self

    def predict(self, frame: pd.DataFrame, issue_times: Sequence[pd.Timestamp] | None = None) -> pd.DataFrame:
        if not hasattr(self, "fitted_"):
            raise PowercastError(f"{self.name} is not fitted", "call fit(frame) first")
        frame = model_frame(frame)
        keys = ["machine_id", "issue_ts", "step"]
        forecasts = [
            m.predict(frame, issue_times).sort_values(keys).reset_index(drop=True) for m in self.fitted_.values()
        ]
        first = forecasts[0]
        if any(len(f) != len(first) or not (f[keys].to_numpy() == first[keys].to_numpy()).all() for f in forecasts):
            raise PowercastError("ensemble members forecast different issues", "fit all members on the same frame")
        watts = np.mean([f[WATTS].to_numpy(float) for f in forecasts], axis=0)
        issues = first.loc[first["step"] == 1, ["machine_id", "issue_ts"]]
        n = len(issues)
        watts = watts.reshape(n, self.horizon, 3)
        last = _last_observed(frame, issues)
        scales = {**machine_scales(frame), **self.scales_}
        watts = self._calibrated(watts, last, issues["machine_id"].map(scales).to_numpy(float))
        pairs = list(issues.itertuples(index=False, name=None))
        return forecast_frame(pairs, watts[..., 1], watts[..., 0], watts[..., 2])[FORECAST_COLUMNS]

    def params(self) -> dict:
        return {
            **super().params(),
            "members": ",".join(self.members),
            **{f"{name}.{k}": v for name, p in self.member_params.items() for k, v in p.items()},
        }


def _last_observed(frame: pd.DataFrame, issues: pd.DataFrame) -> np.ndarray:
    """The last power reading before each issue time (NaN when none)."""
    out = np.full(len(issues), np.nan)
    machines = issues["machine_id"].to_numpy()
    for machine, grid in grids(frame).items():
        rows = np.flatnonzero(machines == machine)
        if len(rows):
            positions = np.array([grid.pos(t) for t in issues["issue_ts"].iloc[rows]])
            out[rows] = last_observed_many(grid, positions)
    return out
