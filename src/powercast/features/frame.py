"""The minute frame's columns and its regular one-minute grid.

A minute frame has one row per machine and one-minute bucket (`ts`, tz-aware UTC bucket start), sorted by
`machine_id, ts`. A sensor `s` contributes `s` (the mean), `s_min`, `s_max`, `s_std`, `s_last` and `s_count`
(readings in the bucket; 0 for a bucket without any). Machine attributes (`machine_type`, `rated_power_w`) are
constant per machine.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from powercast.errors import PowercastError
from powercast.stream.events import SENSORS

MINUTE = pd.Timedelta(minutes=1)
UTC_NS = pd.DatetimeTZDtype("ns", "UTC")
STATS = ("min", "max", "std", "last", "count")
ATTRIBUTES = ("machine_type", "rated_power_w")
KEY = ["machine_id", "ts"]
# Canonical column order of sensors in a minute frame: power first.
SENSOR_ORDER = ("power", *[s for s in SENSORS if s != "power"])


def to_utc(values: pd.Series) -> pd.Series:
    """`pd.to_datetime(values, utc=True)`, without its parse-cache probe (which builds a Timestamp object per
    element) when the values are timestamps with a zone already."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC")
    return pd.to_datetime(values, utc=True)


def sensor_columns(sensor: str) -> list[str]:
    """The minute-frame columns of one sensor: the mean (bare name), then min, max, std, last, count."""
    return [sensor] + [f"{sensor}_{stat}" for stat in STATS]


def present_sensors(frame: pd.DataFrame) -> list[str]:
    """Known sensors whose mean column is in the frame, in the canonical order."""
    return [s for s in SENSOR_ORDER if s in frame.columns]


def check_minute_frame(frame: pd.DataFrame, target: str = "power", *, what: str = "minute frame") -> pd.DataFrame:
    """The one minute-frame contract, checked: a DataFrame with `machine_id`, `ts` (tz-aware, minute bucket
    starts) and `target`, at most one row per (machine_id, ts). Returns the frame in (machine_id, ts) order with
    a fresh index; a PowercastError that says how to fix it otherwise."""
    if not isinstance(frame, pd.DataFrame):
        raise PowercastError(f"{what} must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in (*KEY, target) if c not in frame.columns]
    if missing:
        raise PowercastError(
            f"{what} lacks columns {missing}",
            f"pass one row per machine and minute with machine_id, ts and {target} "
            "(minute_frame_from_readings or load_minute_frame build one)",
        )
    ts = frame["ts"]
    if not isinstance(ts.dtype, pd.DatetimeTZDtype):
        raise PowercastError(
            f"{what}: ts must be tz-aware UTC timestamps", "convert with pd.to_datetime(..., utc=True)"
        )
    if len(ts) and off_minute(ts).any():
        raise PowercastError(f"{what}: ts must be minute bucket starts", "floor the timestamps to the minute")
    if is_sorted_by_machine_and_ts(frame):  # the usual case: spare the duplicate search and the sort
        return frame.reset_index(drop=True)
    if frame.duplicated(KEY).any():
        raise PowercastError(f"{what} holds duplicate (machine_id, ts) rows", "aggregate to one row per minute first")
    return frame.sort_values(KEY, kind="stable").reset_index(drop=True)


def off_minute(ts: pd.Series) -> np.ndarray:
    """True where a timestamp is not a minute start (NaT included)."""
    if ts.dtype == UTC_NS:  # the usual dtype: integer arithmetic instead of a floor and a comparison
        return (ts.array.asi8 % MINUTE.value != 0) | ts.isna().to_numpy()
    return (ts.dt.floor("min") != ts).to_numpy()


def to_grid(frame: pd.DataFrame, target: str = "power") -> pd.DataFrame:
    """The frame on a regular one-minute grid per machine, from its first to its last bucket.

    Missing buckets become rows with NaN values and count 0; machine attributes are carried into them.
    Duplicated (machine_id, ts) rows are refused. The result is sorted and has a fresh RangeIndex.
    """
    frame = check_minute_frame(frame, target)
    if frame["ts"].dtype != UTC_NS:
        frame = frame.assign(ts=frame["ts"].dt.tz_convert("UTC").astype(UTC_NS))
    if frame.empty:
        return frame.reset_index(drop=True)
    if _is_complete_grid(frame):  # gap-free: nothing to reindex
        return _fill_grid_rows(frame)
    bounds = frame.groupby("machine_id", sort=True)["ts"].agg(["min", "max"])
    lengths = ((bounds["max"] - bounds["min"]) // MINUTE).astype(np.int64) + 1
    if int(lengths.sum()) == len(frame):
        grid = frame.reset_index(drop=True)
    else:
        machines = np.repeat(bounds.index.to_numpy(), lengths.to_numpy())
        offsets = np.arange(int(lengths.sum())) - np.repeat(
            np.cumsum(lengths.to_numpy()) - lengths.to_numpy(), lengths.to_numpy()
        )
        starts = np.repeat(bounds["min"].dt.tz_convert(None).to_numpy(), lengths.to_numpy())
        ts = (pd.DatetimeIndex(starts) + pd.to_timedelta(offsets, unit="min")).tz_localize("UTC")
        full = pd.MultiIndex.from_arrays([machines, ts], names=KEY)
        grid = frame.set_index(KEY).reindex(full).reset_index()
    return _fill_grid_rows(grid)


def _is_complete_grid(frame: pd.DataFrame) -> bool:
    """True when rows run machine by machine (ascending ids) and minute by minute without a gap or repeat."""
    if not is_sorted_by_machine_and_ts(frame):
        return False
    machine = frame["machine_id"].to_numpy()
    same = machine[1:] == machine[:-1]
    return bool((np.diff(frame["ts"].array.asi8)[same] == MINUTE.value).all())


def is_sorted_by_machine_and_ts(frame: pd.DataFrame) -> bool:
    """True when the rows are strictly ascending by (machine_id, ts): sorted, and no key repeats. A cheap
    check that lets callers skip a sort and a duplicate search on frames that are already in order."""
    machine = frame["machine_id"].to_numpy()
    if len(machine) < 2:
        return len(machine) == 1 and isinstance(machine[0], str)
    ts = frame["ts"]
    if ts.isna().any() or not all(isinstance(m, str) for m in (machine[0], machine[-1])):
        return False
    same = machine[1:] == machine[:-1]
    try:
        later_machine = machine[1:] > machine[:-1]
    except TypeError:  # ids of mixed types: let the caller's general path sort them
        return False
    return bool((later_machine | (same & (np.diff(ts.array.asi8) > 0))).all())


def _fill_grid_rows(grid: pd.DataFrame) -> pd.DataFrame:
    counts = [c for c in grid.columns if c.endswith("_count") and grid[c].dtype != np.int64]  # int64: no gaps
    if counts:
        grid[counts] = grid[counts].fillna(0).astype(np.int64)
    attributes = [c for c in ATTRIBUTES if c in grid.columns]
    if attributes and grid[attributes].isna().any().any():
        by_machine = grid.groupby("machine_id", sort=False)[attributes]
        grid[attributes] = by_machine.ffill().fillna(by_machine.bfill())
    return grid


def positions(grid: pd.DataFrame) -> np.ndarray:
    """Each row's position within its machine on a gridded, sorted frame (0 for the machine's first bucket)."""
    machine = grid["machine_id"].to_numpy()
    if len(machine) == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.r_[True, machine[1:] != machine[:-1]]
    start_rows = np.flatnonzero(starts)
    run_lengths = np.diff(np.r_[start_rows, len(machine)])
    return np.arange(len(machine)) - np.repeat(start_rows, run_lengths)
