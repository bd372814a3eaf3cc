"""Data-quality checks on minute frames: too little history, gaps and flat-lined (stuck) sensors."""

from __future__ import annotations

import numpy as np
import pandas as pd

from powercast.errors import InsufficientHistory
from powercast.features.frame import MINUTE, positions, present_sensors, to_grid
from powercast.features.rolling import window_flat
from powercast.features.spec import FeatureSpec


def history_minutes(frame: pd.DataFrame, target: str = "power") -> pd.Series:
    """Per machine, the minutes from its first to its last bucket that hold a target value."""
    valid = frame[frame[target].notna()]
    if valid.empty:
        return pd.Series(0, index=pd.Index(frame["machine_id"].unique(), name="machine_id"), dtype=np.int64)
    span = valid.groupby("machine_id")["ts"].agg(["min", "max"])
    minutes = ((span["max"] - span["min"]) // MINUTE).astype(np.int64) + 1
    return minutes.reindex(frame["machine_id"].unique(), fill_value=0)


def check_history(frame: pd.DataFrame, spec: FeatureSpec, need: int | None = None) -> None:
    """Raise InsufficientHistory for the first machine with fewer than `need` (default spec.min_history) minutes."""
    need = spec.min_history if need is None else need
    have = history_minutes(frame, spec.target)
    short = have[have < need]
    if len(short):
        raise InsufficientHistory.of_machine(str(short.index[0]), int(short.iloc[0]), need)


def quality_report(frame: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    """One row per machine: buckets, missing target share, stuck minutes per sensor, enough history or not."""
    grid = to_grid(frame, spec.target)
    pos = positions(grid)
    report = pd.DataFrame(
        {
            "buckets": grid.groupby("machine_id").size(),
            "missing_share": grid[spec.target].isna().groupby(grid["machine_id"]).mean(),
            "history_minutes": history_minutes(grid, spec.target),
        }
    )
    for sensor in present_sensors(grid):
        flat = window_flat(grid[sensor].to_numpy(float), pos, spec.stuck_window)
        report[f"{sensor}_stuck_minutes"] = pd.Series(flat, index=grid.index).groupby(grid["machine_id"]).sum()
    report["enough_history"] = report["history_minutes"] >= spec.min_history
    report.index.name = "machine_id"
    return report.reset_index()
