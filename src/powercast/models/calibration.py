"""Per-step calibration of a learned forecaster on its cross-validation: never worse than persistence, a band that
covers what it says.

Point: the learned models predict the change from the last observed power (`powercast.models.design`); step k's
forecast becomes `last + w_k * (model - last)`, with `w_k` in [0, 1] the blend weight that minimises the MAE over the
cross-validation forecasts of step k (w = 0 is persistence itself, w = 1 the model alone). Persistence is one of the
candidates, so on the data the weights were chosen on no step can be worse than persistence.

Band: split-conformal, per step, on the blended forecasts' residuals, pooled over machines in units of the
machine's power scale (conformalised quantile regression with one offset per side): the lower end moves by the
(1 - lo)-quantile of `(lo - y) / scale`, the upper end by the hi-quantile of `(y - hi) / scale`, so that a share
`lo` of actuals falls below the band and a share `1 - hi` above it.

`cross_fitted` evaluates the calibration honestly on the CV itself: each fold's forecasts are calibrated with the
weights and offsets learned on the other folds only (with a single fold: the two halves of its issue times).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from powercast.errors import PowercastError

WEIGHT_GRID = np.linspace(0.0, 1.0, 21)
MIN_POINTS = 20  # CV forecasts a step needs before its weight and offsets are learned (else: model alone, no offset)


@dataclass(frozen=True)
class StepCalibration:
    """Blend weights and band offsets per horizon step (index 0 is step 1)."""

    weight: np.ndarray  # [horizon] share of the model's predicted change kept (0: persistence, 1: the model)
    lo_offset: np.ndarray  # [horizon] in power-scale units, subtracted from the band's lower end
    hi_offset: np.ndarray  # [horizon] in power-scale units, added to the band's upper end

    @property
    def horizon(self) -> int:
        return len(self.weight)

    def apply(self, lo: np.ndarray, yhat: np.ndarray, hi: np.ndarray, last: np.ndarray, scale: np.ndarray):
        """(lo, yhat, hi) [n, horizon] in W, calibrated; `last` [n] is the last observed power, `scale` [n] the
        machine's power scale. The band moves with the point forecast, then widens (or narrows) by the offsets."""
        last, scale = np.asarray(last, float)[:, None], np.asarray(scale, float)[:, None]
        point = np.where(np.isfinite(last), last + self.weight * (yhat - last), yhat)
        shift = point - yhat
        return lo + shift - self.lo_offset * scale, point, hi + shift + self.hi_offset * scale

    def to_params(self, prefix: str) -> dict[str, float]:
        """Flat parameters for tracking: `{prefix}.blend_weight_step_K`, `{prefix}.band_lo_offset_step_K`, ..."""
        out = {}
        for k in range(self.horizon):
            out[f"{prefix}.blend_weight_step_{k + 1}"] = round(float(self.weight[k]), 4)
            out[f"{prefix}.band_lo_offset_step_{k + 1}"] = round(float(self.lo_offset[k]), 5)
            out[f"{prefix}.band_hi_offset_step_{k + 1}"] = round(float(self.hi_offset[k]), 5)
        return out


def identity(horizon: int) -> StepCalibration:
    """The calibration that changes nothing."""
    return StepCalibration(np.ones(horizon), np.zeros(horizon), np.zeros(horizon))


def fit_calibration(cv: pd.DataFrame, horizon: int, quantiles: tuple[float, float]) -> StepCalibration:
    """Weights and offsets from CV forecasts (`powercast.models.cv.cross_validate` output: yhat, yhat_lo, yhat_hi,
    y, persistence, power_scale, step)."""
    weight, lo_offset, hi_offset = identity(horizon).weight.copy(), np.zeros(horizon), np.zeros(horizon)
    ok = _usable(cv)
    for k in range(horizon):
        part = cv[ok & (cv["step"] == k + 1)]
        if len(part) < MIN_POINTS:
            continue
        y, last, model = (part[c].to_numpy(float) for c in ("y", "persistence", "yhat"))
        errors = np.abs((y - last)[:, None] - WEIGHT_GRID[None, :] * (model - last)[:, None]).mean(axis=0)
        weight[k] = WEIGHT_GRID[int(np.argmin(errors))]  # ties go to the smaller weight: persistence first
        point = last + weight[k] * (model - last)
        shift, scale = point - model, part["power_scale"].to_numpy(float)
        lo_offset[k] = _upper_quantile((part["yhat_lo"].to_numpy(float) + shift - y) / scale, 1 - quantiles[0])
        hi_offset[k] = _upper_quantile((y - part["yhat_hi"].to_numpy(float) - shift) / scale, quantiles[1])
    return StepCalibration(weight, lo_offset, hi_offset)


def apply_to_cv(cv: pd.DataFrame, calibration: StepCalibration) -> pd.DataFrame:
    """CV forecasts with `calibration` applied (last observed = the `persistence` column)."""
    out = cv.copy()
    steps = out["step"].to_numpy(int) - 1
    last, scale = out["persistence"].to_numpy(float), out["power_scale"].to_numpy(float)
    yhat = out["yhat"].to_numpy(float)
    point = np.where(np.isfinite(last), last + calibration.weight[steps] * (yhat - last), yhat)
    shift = point - yhat
    out["yhat"] = point
    out["yhat_lo"] = out["yhat_lo"].to_numpy(float) + shift - calibration.lo_offset[steps] * scale
    out["yhat_hi"] = out["yhat_hi"].to_numpy(float) + shift + calibration.hi_offset[steps] * scale
    out["yhat_lo"], out["yhat_hi"] = np.fmin(out["yhat_lo"], out["yhat"]), np.fmax(out["yhat_hi"], out["yhat"])
    return out


def cross_fitted(
    cv: pd.DataFrame, horizon: int, quantiles: tuple[float, float]
) -> tuple[pd.DataFrame, StepCalibration]:
    """(CV forecasts each calibrated on the other folds only, the calibration learned on all folds)."""
    if cv.empty:
        raise PowercastError("no cross-validation forecasts to calibrate on", "give more history or more windows")
    groups = cv["fold"].to_numpy()
    if len(np.unique(groups)) < 2:
        groups = (cv["issue_ts"] >= cv["issue_ts"].median()).to_numpy().astype(int)
    parts = []
    for group in np.unique(groups):
        held_out = groups == group
        calibration = fit_calibration(cv[~held_out], horizon, quantiles)
        parts.append(apply_to_cv(cv[held_out], calibration))
    honest = pd.concat(parts).loc[cv.index]
    return honest, fit_calibration(cv, horizon, quantiles)


def _usable(cv: pd.DataFrame) -> pd.Series:
    columns = ["y", "persistence", "yhat", "yhat_lo", "yhat_hi", "power_scale"]
    finite = np.isfinite(cv[columns].to_numpy(float)).all(axis=1)
    return pd.Series(finite, index=cv.index) & (cv["power_scale"] > 0)


def _upper_quantile(scores: np.ndarray, level: float) -> float:
    """The split-conformal quantile: the ceil((n + 1) * level)-th smallest score (the largest when that is past n)."""
    scores = np.sort(scores)
    rank = min(int(np.ceil((len(scores) + 1) * level)), len(scores))
    return float(scores[rank - 1])
