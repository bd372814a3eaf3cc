"""Per-machine shifts and trailing windows over a gridded minute frame, vectorised with numpy.

Every window is reduced on its own values only (no running sums), so a value depends on nothing but the
buckets inside its window: the batch path over months and the incremental path over a short tail give
bit-identical results.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

_CHUNK_CELLS = 1 << 21  # rows per chunk * window length: bounds the temporary arrays to a few tens of MB


def shift(values: np.ndarray, pos: np.ndarray, k: int) -> np.ndarray:
    """values[i - k] within the same machine (NaN for the machine's first k buckets)."""
    out = np.full(len(values), np.nan)
    if k == 0:
        return values.astype(float, copy=True)
    if k < len(values):
        out[k:] = values[:-k]
    out[pos < k] = np.nan
    return out


def _windows(values: np.ndarray, w: int):
    """Yield (row slice, (rows, w) block) chunks of trailing windows; rows before the start are NaN-padded."""
    padded = np.concatenate([np.full(w - 1, np.nan), values.astype(float, copy=False)])
    view = sliding_window_view(padded, w)
    step = max(1, _CHUNK_CELLS // w)
    for start in range(0, len(values), step):
        stop = min(start + step, len(values))
        yield slice(start, stop), view[start:stop]


def window_mean_std(values: np.ndarray, pos: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Trailing mean and sample std over the last `w` buckets of the same machine, ignoring NaN buckets.

    NaN while the machine has fewer than `w` buckets, or when the window has no value (std: fewer than two).
    """
    mean = np.full(len(values), np.nan)
    std = np.full(len(values), np.nan)
    for rows, block in _windows(values, w):
        valid = ~np.isnan(block)
        count = valid.sum(axis=1)
        total = np.where(valid, block, 0.0).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            m = total / count
            dev = np.where(valid, block - m[:, None], 0.0)
            var = (dev * dev).sum(axis=1) / (count - 1)
        mean[rows] = np.where(count > 0, m, np.nan)
        std[rows] = np.where(count > 1, np.sqrt(var), np.nan)
    young = pos < w - 1
    mean[young] = np.nan
    std[young] = np.nan
    return mean, std


def window_flat(values: np.ndarray, pos: np.ndarray, w: int) -> np.ndarray:
    """1.0 where the last `w` buckets of the same machine all hold the very same non-zero value (a flat-lined
    sensor). A flat 0 is left alone: a machine that is switched off reads exactly 0 W, and that is real."""
    flat = np.zeros(len(values))
    for rows, block in _windows(values, w):
        complete = ~np.isnan(block).any(axis=1)
        same = np.zeros(len(block), dtype=bool)
        top, bottom = block[complete].max(axis=1), block[complete].min(axis=1)
        same[complete] = (top == bottom) & (top != 0)
        flat[rows] = same
    flat[pos < w - 1] = 0.0
    return flat
