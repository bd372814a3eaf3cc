"""Expanding-window time-series cross-validation.

The last `n_windows * window` minutes of the frame are cut into `n_windows` consecutive test windows. For
fold i, a fresh copy of the forecaster is fitted on every bucket before the window's start (the cutoff),
then forecasts are issued every `issue_every` minutes inside the window. Each forecast sees only buckets
before its issue time: the model was fitted before the cutoff, and `predict` slices history by issue time
(a test perturbs the future and checks that no forecast moves).

The result is the forecast frame plus `fold`, `cutoff`, the actual `y`, `persistence` (the last observed
value before the issue time, so every model's ratio to persistence is computed on the same points),
`seasonal_day` and `seasonal_week` (the seasonal-naive forecasts: the same minute one day / one week earlier, with
the fallbacks of `powercast.models.frame.seasonal_points`: the second reference of every comparison),
`naive_scale` (the machine's mean absolute one-minute change in the training data, the MASE denominator) and
`power_scale` (the machine's power scale in the training data, `powercast.models.frame.machine_scales`: the unit
in which `powercast.models.calibration` pools residuals over machines).
"""

from __future__ import annotations

import copy
import logging
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

if TYPE_CHECKING:
    from powercast.models.base import Forecaster

from powercast.errors import PowercastError
from powercast.features.frame import MINUTE
from powercast.features.spec import HORIZON
from powercast.models.frame import (
    SEASONS,
    future_values,
    grids,
    last_observed,
    machine_scales,
    model_frame,
    naive_scales,
    seasonal_points,
)

log = logging.getLogger(__name__)


def plan_folds(
    frame: pd.DataFrame, n_windows: int, horizon: int, window: int | None = None, min_train: int = 360
) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """(cutoff, end) of each test window; training data is everything before the cutoff."""
    if n_windows < 1:
        raise PowercastError("n_windows must be at least 1")
    start, end = frame["ts"].min(), frame["ts"].max() + MINUTE
    span = int((end - start) // MINUTE)
    if window is None:
        window = min(1440, span // (n_windows + 1))
    if window < horizon:
        raise PowercastError(
            f"the data spans {span} minutes: too short for {n_windows} test windows of at least {horizon} minutes",
            "give more history or fewer --windows",
        )
    first_cutoff = end - n_windows * window * MINUTE
    if (first_cutoff - start) // MINUTE < min_train:
        raise PowercastError(
            f"only {(first_cutoff - start) // MINUTE} minutes of training data before the first "
            f"test window (need {min_train})",
            "give more history or fewer/shorter windows",
        )
    return [(first_cutoff + i * window * MINUTE, first_cutoff + (i + 1) * window * MINUTE) for i in range(n_windows)]


def cross_validate(
    forecaster: Forecaster,
    frame: pd.DataFrame,
    n_windows: int = 3,
    horizon: int = HORIZON,
    window: int | None = None,
    issue_every: int = 15,
    min_train: int = 360,
    progress: bool = False,
) -> pd.DataFrame:
    """Expanding-window CV of `forecaster`; returns forecasts with `y`, `fold`, `cutoff` and the references
    (`persistence`, `seasonal_day`, `seasonal_week`, `naive_scale`, `power_scale`)."""
    frame = model_frame(frame)
    if horizon != forecaster.horizon:
        raise PowercastError(f"horizon {horizon} differs from the forecaster's ({forecaster.horizon})")
    folds = plan_folds(frame, n_windows, horizon, window, min_train)
    results = []
    for fold, (cutoff, end) in enumerate(tqdm(folds, desc=f"cv {forecaster.name}", disable=not progress)):
        train = frame[frame["ts"] < cutoff]
        model = copy.deepcopy(forecaster).fit(train)
        issue_times = pd.date_range(cutoff, end - horizon * MINUTE, freq=f"{issue_every}min")
        visible = frame[frame["ts"] < end]
        forecast = model.predict(visible, issue_times=list(issue_times))
        results.append(_attach_actuals(forecast, visible, train, horizon).assign(fold=fold, cutoff=cutoff))
    return pd.concat(results, ignore_index=True)


def _attach_actuals(forecast: pd.DataFrame, visible: pd.DataFrame, train: pd.DataFrame, horizon: int) -> pd.DataFrame:
    out = forecast.sort_values(["machine_id", "issue_ts", "step"], kind="stable").reset_index(drop=True)
    issues = out.loc[out["step"] == 1, ["machine_id", "issue_ts"]]
    if len(issues) * horizon != len(out):
        raise PowercastError("a forecaster returned an incomplete forecast frame (every issue needs all steps)")
    by_machine = grids(visible)
    y, persistence = np.full((len(issues), horizon), np.nan), np.full((len(issues), horizon), np.nan)
    seasonal = {season: np.full((len(issues), horizon), np.nan) for season in ("day", "week")}
    machines = issues["machine_id"].to_numpy()
    for machine, grid in by_machine.items():
        rows = np.flatnonzero(machines == machine)
        if not len(rows):
            continue
        positions = np.array([grid.pos(t) for t in issues["issue_ts"].iloc[rows]])
        for season, points in seasonal.items():
            points[rows] = seasonal_points(grid, positions, SEASONS[season], horizon)[0]
        for i, pos in zip(rows, positions, strict=True):
            y[i] = future_values(grid, pos, horizon)
            persistence[i] = last_observed(grid, pos)
    out["y"] = y.ravel()
    out["persistence"] = persistence.ravel()
    out["seasonal_day"] = seasonal["day"].ravel()
    out["seasonal_week"] = seasonal["week"].ravel()
    out["naive_scale"] = out["machine_id"].map(naive_scales(train)).astype(float)
    out["power_scale"] = out["machine_id"].map(machine_scales(train)).astype(float)
    return out
