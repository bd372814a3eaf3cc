"""Sliding windows for sequence models: the last `spec.history` buckets before an issue time -> the next
`horizon` one-minute target values. Vectorised: one fancy-indexing gather for all windows.

An issue time T (a minute boundary) uses buckets T - history .. T - 1 min and targets buckets T .. T + (horizon
- 1) min, matching the forecaster interface (`powercast.models.base`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from powercast.errors import InsufficientHistory, PowercastError
from powercast.features.frame import MINUTE, off_minute, present_sensors, to_grid, to_utc
from powercast.features.spec import FeatureSpec

INDEX_COLUMNS = ["machine_id", "issue_ts"]


def issue_index(frame: pd.DataFrame, issue_times: Sequence[pd.Timestamp] | pd.DataFrame | None = None) -> pd.DataFrame:
    """Issue times per machine: by default the minute after each machine's last bucket; a list of times applies
    to every machine; a DataFrame with `machine_id, issue_ts` is validated and passed through."""
    if isinstance(issue_times, pd.DataFrame):
        index = issue_times[INDEX_COLUMNS].copy()
    elif issue_times is None:
        last = frame.groupby("machine_id", sort=True)["ts"].max() + MINUTE
        index = pd.DataFrame({"machine_id": last.index, "issue_ts": last.to_numpy()})
    else:
        machines = np.sort(frame["machine_id"].unique())
        times = pd.DatetimeIndex(pd.to_datetime(list(issue_times), utc=True))
        index = pd.DataFrame(
            {"machine_id": np.repeat(machines, len(times)), "issue_ts": np.tile(times.to_numpy(), len(machines))}
        )
    index["issue_ts"] = to_utc(index["issue_ts"]).astype("datetime64[ns, UTC]")
    if off_minute(index["issue_ts"]).any():
        raise PowercastError("issue times must be minute boundaries", "floor them to the minute")
    return index.reset_index(drop=True)


def training_index(frame: pd.DataFrame, spec: FeatureSpec, stride: int = 1, complete: bool = True) -> pd.DataFrame:
    """Every issue time (each `stride` minutes) with a full history window and all horizon buckets inside the
    machine's data; with `complete`, only those whose target and horizon values are all present."""
    grid = to_grid(frame, spec.target)
    first = grid.groupby("machine_id", sort=True)["ts"].min()
    last = grid.groupby("machine_id", sort=True)["ts"].max()
    parts = []
    for machine in first.index:
        start = first[machine] + spec.history * MINUTE
        stop = last[machine] - (spec.horizon - 1) * MINUTE
        if stop >= start:
            times = pd.date_range(start, stop, freq=f"{stride}min")
            parts.append(pd.DataFrame({"machine_id": machine, "issue_ts": times}))
    if not parts:
        return pd.DataFrame({"machine_id": pd.Series(dtype=object), "issue_ts": pd.Series(dtype="datetime64[ns, UTC]")})
    index = issue_index(grid, pd.concat(parts, ignore_index=True))
    if complete:
        y = targets(grid, index, spec.horizon, target=spec.target)
        index = index[~np.isnan(y).any(axis=1)].reset_index(drop=True)
    return index


def default_channels(frame: pd.DataFrame, spec: FeatureSpec) -> list[str]:
    """The target first, then the other sensors' means that are present."""
    return [spec.target] + [s for s in present_sensors(frame) if s in spec.sensors and s != spec.target]


def sliding_windows(
    frame: pd.DataFrame,
    spec: FeatureSpec,
    index: pd.DataFrame,
    channels: Sequence[str] | None = None,
    *,
    strict: bool = True,
    dtype=np.float64,
) -> tuple[np.ndarray, list[str]]:
    """X[n, spec.history, n_channels]: the buckets before each issue time (NaN where a bucket is missing).

    With `strict`, an issue time whose window starts before the machine's first bucket raises
    InsufficientHistory naming the machine; otherwise those positions are NaN.
    """
    grid = to_grid(frame, spec.target)
    channels = list(channels) if channels is not None else default_channels(grid, spec)
    missing = [c for c in channels if c not in grid.columns]
    if missing:
        raise PowercastError(f"window channel(s) {missing} are not in the frame", f"choose from {list(grid.columns)}")
    rel, start_row, length, machines = _locate(grid, index)
    offsets = np.arange(-spec.history, 0)
    if strict and len(rel):
        have = rel  # buckets available before the issue time
        short = np.flatnonzero(have < spec.history)
        if len(short):
            i = short[0]
            raise InsufficientHistory.of_machine(str(machines[i]), int(max(have[i], 0)), spec.history)
    values = grid[channels].to_numpy(dtype=np.float64)
    return _gather(values, rel[:, None] + offsets[None, :], start_row, length).astype(dtype, copy=False), channels


def targets(frame: pd.DataFrame, index: pd.DataFrame, horizon: int, target: str = "power") -> np.ndarray:
    """y[n, horizon]: the target of buckets issue_ts + 0 .. horizon - 1 minutes (NaN where missing)."""
    grid = to_grid(frame, target)
    rel, start_row, length, _ = _locate(grid, index)
    values = grid[[target]].to_numpy(dtype=np.float64)
    return _gather(values, rel[:, None] + np.arange(horizon)[None, :], start_row, length)[:, :, 0]


def _locate(grid: pd.DataFrame, index: pd.DataFrame):
    """Per issue: bucket offset of issue_ts from the machine's first bucket, the machine's first row and length."""
    index = issue_index(grid, index)
    if len(index) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, np.zeros(0, dtype=object)
    machine = grid["machine_id"]
    first_row = pd.Series(np.arange(len(grid))).groupby(machine.to_numpy()).min()
    length = machine.value_counts()
    first_ts = grid.groupby("machine_id")["ts"].min()
    wanted = pd.Index(first_row.index).get_indexer(index["machine_id"])
    if (wanted < 0).any():
        unknown = index["machine_id"][wanted < 0].iloc[0]
        raise InsufficientHistory.of_machine(str(unknown), 0, 1, "data in this frame")
    machines = index["machine_id"].to_numpy()
    rel = (_minutes(index["issue_ts"]) - _minutes(first_ts.reindex(machines))).astype(np.int64)
    return rel, first_row.reindex(machines).to_numpy(), length.reindex(machines).to_numpy(), machines


def _minutes(ts: pd.Series) -> np.ndarray:
    """Whole minutes since the epoch of a tz-aware series."""
    return ts.dt.tz_convert(None).to_numpy().astype("datetime64[m]").astype(np.int64)


def _gather(values: np.ndarray, rel: np.ndarray, start_row: np.ndarray, length: np.ndarray) -> np.ndarray:
    inside = (rel >= 0) & (rel < length[:, None])
    rows = np.where(inside, start_row[:, None] + rel, 0)
    out = values[rows] if len(values) else np.zeros((*rel.shape, values.shape[1]))
    out[~inside] = np.nan
    return out
