"""Baseline forecasters: persistence, seasonal naive and moving average.

Each gives a point forecast from the machine's own history before the issue time. The 10%-90% band is the
point forecast plus per-step quantiles of the in-sample errors, in units of the machine's power scale
(rated power, else the 99th percentile seen), learned by `fit` over all machines: one global band.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from powercast.errors import PowercastError
from powercast.models.base import Forecaster
from powercast.models.frame import (
    SEASONS,
    Grid,
    forecast_frame,
    gather,
    grids,
    issue_pairs,
    last_observed_many,
    machine_scales,
    model_frame,
    seasonal_points,
)

log = logging.getLogger(__name__)


class _EmpiricalBandForecaster(Forecaster):
    """Point forecasts from `_points`, band from the in-sample scaled error quantiles per step."""

    calibration_every = 5  # minutes between in-sample issue times used to learn the band

    def _points(self, grid: Grid, positions: np.ndarray) -> np.ndarray:
        """Point forecasts [n, horizon] for issues at `positions` of one machine's grid."""
        raise NotImplementedError

    def fit(self, frame: pd.DataFrame) -> _EmpiricalBandForecaster:
        frame = model_frame(frame)
        self.scales_ = machine_scales(frame)
        errors = [np.empty((0, self.horizon))]
        for machine, grid in grids(frame).items():
            positions = np.arange(1, len(grid.values) - self.horizon + 1, self.calibration_every)
            actual = gather(grid, positions[:, None] + np.arange(self.horizon))
            errors.append((actual - self._points(grid, positions)) / self.scales_[machine])
        errors = np.concatenate(errors)
        if not errors.size or np.isfinite(errors).sum(axis=0).min() < 20:
            raise PowercastError(
                f"{self.name}: too little history to fit ({len(frame)} rows)",
                f"give it at least a few hours of minutes per machine (horizon {self.horizon})",
            )
        self.band_ = np.nanquantile(errors, self.quantiles, axis=0)  # [2, horizon]
        return self

    def predict(self, frame: pd.DataFrame, issue_times: Sequence[pd.Timestamp] | None = None) -> pd.DataFrame:
        if not hasattr(self, "band_"):
            raise PowercastError(f"{self.name} is not fitted", "call fit(frame) first")
        frame = model_frame(frame)
        by_machine = grids(frame)
        scales = {**machine_scales(frame), **self.scales_}
        pairs = issue_pairs(by_machine, issue_times)
        point = np.full((len(pairs), self.horizon), np.nan)
        machines = np.array([m for m, _ in pairs])
        for machine, grid in by_machine.items():
            rows = np.flatnonzero(machines == machine)
            if len(rows):
                point[rows] = self._points(grid, np.array([grid.pos(pairs[i][1]) for i in rows]))
        scale = np.array([scales[m] for m, _ in pairs])[:, None]
        self._report_missing(point, pairs)
        return forecast_frame(pairs, point, point + scale * self.band_[0], point + scale * self.band_[1])

    def _report_missing(self, point: np.ndarray, pairs: list) -> None:
        empty = np.isnan(point).all(axis=1)
        if empty.any():
            machines = sorted({pairs[i][0] for i in np.flatnonzero(empty)})
            log.warning(
                "%s: no power reading before %d issue time(s) of %s: those forecasts are NaN",
                self.name,
                int(empty.sum()),
                ", ".join(machines),
            )


class Persistence(_EmpiricalBandForecaster):
    """Every step equals the last observed power before the issue time."""

    name = "persistence"

    def _points(self, grid: Grid, positions: np.ndarray) -> np.ndarray:
        return np.repeat(last_observed_many(grid, positions)[:, None], self.horizon, axis=1)


class MovingAverage(_EmpiricalBandForecaster):
    """Every step equals the mean of the last `window` minutes (missing minutes skipped)."""

    name = "moving_average"

    def __init__(self, window: int = 15, **kwargs):
        super().__init__(**kwargs)
        if window < 1:
            raise ValueError("moving_average window must be at least 1 minute")
        self.window = window

    def _points(self, grid: Grid, positions: np.ndarray) -> np.ndarray:
        recent = gather(grid, positions[:, None] - np.arange(1, self.window + 1))
        count = np.isfinite(recent).sum(axis=1)
        mean = np.where(count > 0, np.nansum(recent, axis=1) / np.maximum(count, 1), np.nan)
        mean = np.where(count > 0, mean, last_observed_many(grid, positions))
        return np.repeat(mean[:, None], self.horizon, axis=1)

    def params(self) -> dict:
        return {**super().params(), "window": self.window}


class SeasonalNaive(_EmpiricalBandForecaster):
    """Step k equals the power at the same minute one season earlier (a day or a week).

    Where that minute is missing (history shorter than the season, or a gap) it falls back to one day
    earlier, then to persistence; `fallbacks_` counts each kind for the latest `predict`, and a warning
    says how many forecasts fell back.
    """

    name = "seasonal_naive"

    def __init__(self, season: str | int = "day", **kwargs):
        super().__init__(**kwargs)
        self.season = season
        self.season_minutes = SEASONS[season] if isinstance(season, str) else int(season)
        if self.season_minutes < self.horizon:
            raise ValueError(f"season must be at least the horizon ({self.horizon} minutes)")
        self.fallbacks_ = {"day": 0, "persistence": 0}

    def _points(self, grid: Grid, positions: np.ndarray) -> np.ndarray:
        out, fallbacks = seasonal_points(grid, positions, self.season_minutes, self.horizon)
        for kind, count in fallbacks.items():
            self.fallbacks_[kind] += count
        return out

    def fit(self, frame: pd.DataFrame) -> SeasonalNaive:
        super().fit(frame)
        self.fallbacks_ = {"day": 0, "persistence": 0}
        return self

    def predict(self, frame: pd.DataFrame, issue_times: Sequence[pd.Timestamp] | None = None) -> pd.DataFrame:
        self.fallbacks_ = {"day": 0, "persistence": 0}
        out = super().predict(frame, issue_times)
        if any(self.fallbacks_.values()):
            via_day = (
                f"{self.fallbacks_['day']} used one day earlier, " if self.season_minutes != SEASONS["day"] else ""
            )
            log.warning(
                "seasonal_naive(%s): %d of %d steps had no value one season earlier (history too short or a "
                "gap): %s%d the last observed value",
                self.season,
                sum(self.fallbacks_.values()),
                len(out),
                via_day,
                self.fallbacks_["persistence"],
            )
        return out

    def params(self) -> dict:
        return {**super().params(), "season": self.season}


class WeeklySeasonalNaive(SeasonalNaive):
    """Seasonal naive with a one-week season: step k equals the same minute one week earlier."""

    name = "seasonal_naive_week"

    def __init__(self, season: str | int = "week", **kwargs):
        super().__init__(season=season, **kwargs)
