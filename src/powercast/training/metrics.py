"""Forecast accuracy: MAE, RMSE, sMAPE, MASE, interval coverage and width; per horizon step and overall.

Every function takes an *evaluation frame*: a forecast frame (see `powercast.models.base`) with the actual
value `y` and, as `powercast.models.cv.cross_validate` adds them, `persistence` (the last observed value
before the issue time), `seasonal_day` / `seasonal_week` (the seasonal-naive forecasts, one day / one week
earlier: the second reference, `ratio_to_seasonal_day` / `_week`) and `naive_scale` (the in-sample mean absolute
one-minute change of the machine's power in the training data, the MASE denominator).
Rows whose actual is missing are ignored.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

METRIC_COLUMNS = [
    "mae",
    "rmse",
    "smape",
    "mase",
    "coverage",
    "width",
    "ratio_to_persistence",
    "ratio_to_seasonal_day",
    "ratio_to_seasonal_week",
    "n",
]
REFERENCES = {
    "ratio_to_persistence": "persistence",
    "ratio_to_seasonal_day": "seasonal_day",
    "ratio_to_seasonal_week": "seasonal_week",
}


def mae(y: np.ndarray, yhat: np.ndarray) -> float:
    """Mean absolute error."""
    return float(np.mean(np.abs(np.asarray(y) - np.asarray(yhat))))


def rmse(y: np.ndarray, yhat: np.ndarray) -> float:
    """Root mean squared error."""
    return float(np.sqrt(np.mean((np.asarray(y) - np.asarray(yhat)) ** 2)))


def smape(y: np.ndarray, yhat: np.ndarray) -> float:
    """Symmetric MAPE in percent (0..200); a pair where both actual and forecast are 0 counts as 0 error."""
    y, yhat = np.asarray(y, dtype=float), np.asarray(yhat, dtype=float)
    denom = np.abs(y) + np.abs(yhat)
    ratio = np.divide(2 * np.abs(y - yhat), denom, out=np.zeros_like(denom), where=denom > 0)
    return float(100 * np.mean(ratio))


def mase(y: np.ndarray, yhat: np.ndarray, scale: np.ndarray | float) -> float:
    """Mean absolute error scaled by the in-sample one-step naive error (per row, so machines can differ)."""
    scale = np.broadcast_to(np.asarray(scale, dtype=float), np.shape(y))
    ok = scale > 0
    if not ok.any():
        return float("nan")
    return float(np.mean(np.abs(np.asarray(y)[ok] - np.asarray(yhat)[ok]) / scale[ok]))


def coverage(y: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    """Share of actuals inside [lo, hi]."""
    y = np.asarray(y)
    return float(np.mean((y >= np.asarray(lo)) & (y <= np.asarray(hi))))


def width(lo: np.ndarray, hi: np.ndarray) -> float:
    """Mean interval width."""
    return float(np.mean(np.asarray(hi) - np.asarray(lo)))


def evaluate(frame: pd.DataFrame) -> dict[str, float]:
    """All metrics of one evaluation frame (rows with a missing actual are dropped)."""
    frame = frame[frame["y"].notna() & frame["yhat"].notna()]
    if frame.empty:
        return {name: float("nan") for name in METRIC_COLUMNS[:-1]} | {"n": 0}
    y, yhat = frame["y"].to_numpy(float), frame["yhat"].to_numpy(float)
    out = {
        "mae": mae(y, yhat),
        "rmse": rmse(y, yhat),
        "smape": smape(y, yhat),
        "mase": mase(y, yhat, frame["naive_scale"].to_numpy(float)) if "naive_scale" in frame else float("nan"),
        "coverage": coverage(y, frame["yhat_lo"], frame["yhat_hi"]),
        "width": width(frame["yhat_lo"], frame["yhat_hi"]),
        **{ratio: float("nan") for ratio in REFERENCES},
        "n": len(frame),
    }
    for ratio, reference in REFERENCES.items():
        if reference in frame:
            out[ratio] = ratio_to(y, yhat, frame[reference].to_numpy(float))
    return out


def ratio_to(y: np.ndarray, yhat: np.ndarray, reference: np.ndarray) -> float:
    """MAE of `yhat` over MAE of `reference`, on the points where the reference has a value (NaN when none)."""
    both = np.isfinite(reference)
    if not both.any():
        return float("nan")
    base = mae(y[both], reference[both])
    return mae(y[both], yhat[both]) / base if base > 0 else float("nan")


def metrics_table(frame: pd.DataFrame, by: str | list[str] | None = "step") -> pd.DataFrame:
    """Metrics per group (default: per horizon step) plus an `overall` row (index "overall" / group "all")."""
    rows = []
    if by is not None:
        for key, group in frame.groupby(by, sort=True):
            rows.append({"group": key if not isinstance(key, tuple) or len(key) > 1 else key[0], **evaluate(group)})
    rows.append({"group": "overall", **evaluate(frame)})
    table = pd.DataFrame(rows).set_index("group")
    table.index.name = by if isinstance(by, str) else "group"
    return table[METRIC_COLUMNS]
