"""Helpers every forecaster shares: checking a minute frame, per-machine grids, scales, forecast frames.

A *grid* is one machine's power on a regular one-minute axis: `start` (first bucket) and `values`
(NaN where a bucket is missing), so the forecast issued at minute T sees `values[:pos(T)]` and step k
targets `values[pos(T) + k - 1]`. Slicing by position is what keeps every forecaster free of leakage.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from powercast.errors import PowercastError
from powercast.features.frame import MINUTE, check_minute_frame

log = logging.getLogger(__name__)
SEASONS = {"day": 1440, "week": 10080}  # the seasonal references, in minutes
QUANTILES = (0.1, 0.9)  # the forecast band: its lower and upper quantile
FORECAST_COLUMNS = ["machine_id", "issue_ts", "step", "ts", "yhat", "yhat_lo", "yhat_hi"]


def model_frame(frame: pd.DataFrame, what: str = "minute frame") -> pd.DataFrame:
    """A minute frame (`powercast.features.frame.check_minute_frame`) as the forecasters take it: not empty,
    sorted by machine and ts, `machine_id` as text and `power` as float."""
    frame = check_minute_frame(frame, what=what)
    if frame.empty:
        raise PowercastError(f"{what} is empty", "load some history first (powercast features)")
    frame["machine_id"] = frame["machine_id"].astype(str)
    frame["power"] = pd.to_numeric(frame["power"], errors="coerce").astype(float)
    return frame


@dataclass(frozen=True)
class Grid:
    """One machine's power on a regular one-minute axis starting at `start`."""

    start: pd.Timestamp
    values: np.ndarray

    def pos(self, ts: pd.Timestamp) -> int:
        return int((ts - self.start) // MINUTE)

    @property
    def end(self) -> pd.Timestamp:
        """The minute after the last bucket (the default issue time)."""
        return self.start + len(self.values) * MINUTE


def grids(frame: pd.DataFrame, column: str = "power") -> dict[str, Grid]:
    """Per machine, `column` reindexed onto a regular one-minute axis (missing buckets become NaN)."""
    out = {}
    for machine, part in frame.groupby("machine_id", sort=True):
        ts = part["ts"].dt.floor("min")
        axis = pd.date_range(ts.iloc[0], ts.iloc[-1], freq="min")
        values = pd.Series(part[column].to_numpy(float), index=ts.to_numpy()).groupby(level=0).mean()
        out[str(machine)] = Grid(axis[0], values.reindex(axis).to_numpy(float))
    return out


def issue_pairs(
    grid_by_machine: dict[str, Grid], issue_times: Sequence[pd.Timestamp] | None
) -> list[tuple[str, pd.Timestamp]]:
    """(machine, issue time) pairs: every machine at every given time, default the minute after its last bucket."""
    if issue_times is None:
        return [(m, g.end) for m, g in grid_by_machine.items()]
    times = [
        pd.Timestamp(t).tz_convert("UTC") if pd.Timestamp(t).tzinfo else pd.Timestamp(t, tz="UTC") for t in issue_times
    ]
    return [(m, t.floor("min")) for m in grid_by_machine for t in times]


def last_observed(grid: Grid, pos: int, max_age: int | None = None) -> float:
    """The last non-missing value before position `pos` (NaN when there is none, or it is older than max_age)."""
    lo = 0 if max_age is None else max(0, pos - max_age)
    window = grid.values[lo : max(pos, 0)]
    ok = np.flatnonzero(~np.isnan(window))
    return float(window[ok[-1]]) if len(ok) else float("nan")


def last_observed_many(grid: Grid, positions: np.ndarray) -> np.ndarray:
    """`last_observed` for many positions at once (no age limit)."""
    valid = ~np.isnan(grid.values)
    last_index = np.maximum.accumulate(np.where(valid, np.arange(len(grid.values)), -1))
    before = np.clip(positions - 1, -1, len(grid.values) - 1)
    idx = np.where(before >= 0, last_index[np.maximum(before, 0)], -1)
    return np.where(idx >= 0, grid.values[np.maximum(idx, 0)], np.nan)


def gather(grid: Grid, positions: np.ndarray) -> np.ndarray:
    """grid.values at `positions` (any shape), NaN outside the grid."""
    inside = (positions >= 0) & (positions < len(grid.values))
    out = np.full(positions.shape, np.nan)
    out[inside] = grid.values[positions[inside]]
    return out


def future_values(grid: Grid, pos: int, horizon: int) -> np.ndarray:
    """The `horizon` values from position `pos` on (NaN beyond the grid)."""
    out = np.full(horizon, np.nan)
    lo, hi = max(pos, 0), min(pos + horizon, len(grid.values))
    if hi > lo:
        out[lo - pos : hi - pos] = grid.values[lo:hi]
    return out


def machine_scales(frame: pd.DataFrame) -> dict[str, float]:
    """Per machine, the power scale a global model normalises by: rated power, else the 99th percentile seen."""
    scales = {}
    for machine, part in frame.groupby("machine_id", sort=True):
        rated = part["rated_power_w"].dropna() if "rated_power_w" in part else pd.Series(dtype=float)
        scales[str(machine)] = machine_scale(
            part["power"].to_numpy(float), float(rated.iloc[-1]) if len(rated) else float("nan")
        )
    return scales


def machine_scale(power: np.ndarray, rated_power_w: float) -> float:
    """One machine's power scale (`machine_scales`) from its power values and its last known rated power."""
    if rated_power_w > 0:
        return float(rated_power_w)
    observed = power[~np.isnan(power)]
    level = float(np.percentile(np.abs(observed), 99)) if len(observed) else 0.0
    return level if level > 0 else 1.0


def naive_scales(frame: pd.DataFrame) -> dict[str, float]:
    """Per machine, the mean absolute one-minute change of power (the MASE denominator)."""
    out = {}
    for machine, grid in grids(frame).items():
        diffs = np.abs(np.diff(grid.values))
        out[machine] = float(np.nanmean(diffs)) if np.isfinite(diffs).any() else float("nan")
    return out


def ordered_band(yhat: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lo, yhat, hi) with lo <= yhat <= hi: the band's ends ordered and widened to include the point forecast."""
    lo, hi = np.fmin(lo, hi), np.fmax(lo, hi)
    return np.fmin(lo, yhat), yhat, np.fmax(hi, yhat)


def forecast_frame(
    pairs: Iterable[tuple[str, pd.Timestamp]], yhat: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> pd.DataFrame:
    """A forecast frame from per-pair arrays of shape [n, horizon]. The band never crosses the point forecast:
    lo/hi are ordered and widened to include yhat (learned models pass already sorted quantiles)."""
    pairs = list(pairs)
    if not pairs:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in FORECAST_COLUMNS})
    n, horizon = yhat.shape
    stacked = np.stack(ordered_band(yhat, lo, hi), axis=-1)
    machines = np.repeat([m for m, _ in pairs], horizon)
    issue = pd.DatetimeIndex([t for _, t in pairs]).repeat(horizon)
    steps = np.tile(np.arange(1, horizon + 1), n)
    out = pd.DataFrame(
        {
            "machine_id": machines,
            "issue_ts": issue,
            "step": steps,
            "ts": issue + pd.to_timedelta(steps - 1, unit="min"),
            "yhat": stacked[..., 1].ravel(),
            "yhat_lo": stacked[..., 0].ravel(),
            "yhat_hi": stacked[..., 2].ravel(),
        }
    )
    return out[FORECAST_COLUMNS]


def seasonal_points(
    grid: Grid, positions: np.ndarray, season_minutes: int, horizon: int
) -> tuple[np.ndarray, dict[str, int]]:
    """Seasonal-naive forecasts [n, horizon] for issues at `positions` of one machine's grid: the same minute
    `season_minutes` earlier, else (for a season other than a day) one day earlier, else the last observed value;
    with how many steps took each fallback."""
    targets = positions[:, None] + np.arange(horizon)
    out = gather(grid, targets - season_minutes)
    fallbacks = {"day": 0, "persistence": 0}
    if season_minutes != SEASONS["day"]:
        todo = np.isnan(out)
        out[todo] = gather(grid, targets[todo] - SEASONS["day"])
        fallbacks["day"] = int((todo & ~np.isnan(out)).sum())
    todo = np.isnan(out)
    if todo.any():
        last = np.repeat(last_observed_many(grid, positions)[:, None], horizon, axis=1)
        out[todo] = last[todo]
        fallbacks["persistence"] = int(todo.sum())
    return out, fallbacks
