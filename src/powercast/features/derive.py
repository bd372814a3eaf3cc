"""Derived features from a minute frame, driven by one FeatureSpec, with a batch and an incremental path.

The row at bucket `ts` holds only information from buckets <= ts: it is the feature row of a forecast issued
at `ts + 1 min`. Time features describe that issue time (the start of the first forecast bucket); they are
known in advance, so they leak nothing.

Columns added (t = spec.target, s = each other sensor present in the frame):
- `t_lag_k` (k in spec.lags), `t_ma_w` / `t_sd_w` (trailing mean / std, w in spec.windows),
  `t_delta_k` (k in spec.deltas), `t_missing` (1.0 when bucket ts has no target value);
- `s_ma_w` (w in spec.sensor_windows), `s_delta_k` (k in spec.deltas);
- `x_stuck` for the target and every present sensor: 1.0 when its last spec.stuck_window buckets hold one and
  the same non-zero value (a flat 0 W is a machine switched off, not a stuck sensor);
- `minute_of_day`, `hour`, `day_of_week` (0 = Monday), `shift` (index into spec.shift_starts, wrapping
  midnight), `minute_of_day_sin/cos`, `day_of_week_sin/cos`;
- `machine_type_code` (a stable number per machine type), `rated_power_w`, `t_load` (t / rated_power_w), when
  the attributes are present.
"""

from __future__ import annotations

import zlib
from collections.abc import Collection

import numpy as np
import pandas as pd

from powercast.errors import PowercastError
from powercast.features.frame import KEY, MINUTE, SENSOR_ORDER, positions, to_grid
from powercast.features.rolling import shift, window_flat, window_mean_std
from powercast.features.spec import FeatureSpec

_MINUTE_NS = MINUTE.value
_DAY_NS = 1440 * _MINUTE_NS
TIME_COLUMNS = [
    "minute_of_day",
    "hour",
    "day_of_week",
    "shift",
    "minute_of_day_sin",
    "minute_of_day_cos",
    "day_of_week_sin",
    "day_of_week_cos",
]


def derive_features(frame: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    """The minute frame on its regular grid plus every feature column the spec asks for."""
    grid = to_grid(frame, spec.target)
    machine_type = grid["machine_type"].to_numpy() if "machine_type" in grid.columns else None
    rated = (
        pd.to_numeric(grid["rated_power_w"], errors="coerce").to_numpy(float)
        if "rated_power_w" in grid.columns
        else None
    )
    sensors = [spec.target, *other_sensors(grid, spec)]
    columns = derived_columns(
        {s: grid[s].to_numpy(float) for s in sensors}, positions(grid), grid["ts"].array.asi8, spec, machine_type, rated
    )
    derived = pd.DataFrame(columns, index=grid.index)
    return pd.concat([grid.drop(columns=[c for c in derived.columns if c in grid.columns]), derived], axis=1)


def derived_columns(
    sensors: dict[str, np.ndarray],
    pos: np.ndarray,
    bucket_ns: np.ndarray,
    spec: FeatureSpec,
    machine_type: np.ndarray | None = None,
    rated: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """The feature columns of a gridded minute frame given as arrays: the means of the target and the spec's
    other sensors (`sensors`, target first, then the canonical order), each row's position within its machine,
    the buckets' start (UTC nanoseconds) and the machine attributes (None when absent). `derive_features` and
    the single-machine serving path both build their features here."""
    t = spec.target
    columns: dict[str, np.ndarray] = {}
    columns.update(_target_features(sensors[t], pos, spec))
    others = [s for s in sensors if s != t]
    for sensor in others:
        columns.update(_sensor_features(sensor, sensors[sensor], pos, spec))
    for sensor in [t, *others]:
        columns[f"{sensor}_stuck"] = window_flat(sensors[sensor], pos, spec.stuck_window)
    columns.update(time_features_ns(np.asarray(bucket_ns, dtype=np.int64) + _MINUTE_NS, spec))
    columns.update(_attribute_features(sensors[t], machine_type, rated, spec))
    return columns


def feature_columns(spec: FeatureSpec, features: pd.DataFrame | Collection[str]) -> list[str]:
    """The model inputs: the spec's derived columns present in `features` (a frame or its column names), the
    other sensors' current means and the target's in-bucket spread and reading count."""
    names = [f"{spec.target}_lag_{k}" for k in spec.lags]
    names += [f"{spec.target}_{kind}_{w}" for w in spec.windows for kind in ("ma", "sd")]
    names += [f"{spec.target}_delta_{k}" for k in spec.deltas]
    names += [f"{spec.target}_missing", f"{spec.target}_std", f"{spec.target}_count"]
    for sensor in other_sensors(features, spec):
        names += [sensor] + [f"{sensor}_ma_{w}" for w in spec.sensor_windows]
        names += [f"{sensor}_delta_{k}" for k in spec.deltas]
    names += [f"{s}_stuck" for s in [spec.target, *other_sensors(features, spec)]]
    names += TIME_COLUMNS + ["machine_type_code", "rated_power_w", f"{spec.target}_load"]
    present = features.columns if isinstance(features, pd.DataFrame) else features
    return [n for n in names if n in present]


def time_features(ts: pd.Series | pd.DatetimeIndex, spec: FeatureSpec) -> dict[str, np.ndarray]:
    """Calendar features of the given instants (UTC): minute of day, hour, day of week, shift, cyclic codes."""
    return time_features_ns(pd.DatetimeIndex(ts).tz_convert("UTC").asi8, spec)


def time_features_ns(ns: np.ndarray, spec: FeatureSpec) -> dict[str, np.ndarray]:
    """`time_features` of instants given as UTC nanoseconds (whole-number arithmetic, no calendar objects)."""
    minute_of_day = (ns // _MINUTE_NS) % 1440
    hour = minute_of_day // 60
    day_of_week = (ns // _DAY_NS + 3) % 7  # 1970-01-01 (day 0) was a Thursday
    starts = np.asarray(spec.shift_starts)
    shift_index = (np.searchsorted(starts, hour, side="right") - 1) % len(starts)
    day_angle = 2 * np.pi * minute_of_day / 1440
    week_angle = 2 * np.pi * (day_of_week + minute_of_day / 1440) / 7
    return {
        "minute_of_day": minute_of_day.astype(float),
        "hour": hour.astype(float),
        "day_of_week": day_of_week.astype(float),
        "shift": shift_index.astype(float),
        "minute_of_day_sin": np.sin(day_angle),
        "minute_of_day_cos": np.cos(day_angle),
        "day_of_week_sin": np.sin(week_angle),
        "day_of_week_cos": np.cos(week_angle),
    }


def machine_type_code(machine_type: object) -> float:
    """A stable number for a machine type (CRC-32 based), the same in every process and data set."""
    if machine_type is None or (isinstance(machine_type, float) and np.isnan(machine_type)):
        return np.nan
    return float(zlib.crc32(str(machine_type).encode()) % 100_003)


def other_sensors(frame: pd.DataFrame | Collection[str], spec: FeatureSpec) -> list[str]:
    names = frame.columns if isinstance(frame, pd.DataFrame) else frame
    return [s for s in SENSOR_ORDER if s in names and s in spec.sensors and s != spec.target]


def _target_features(y: np.ndarray, pos: np.ndarray, spec: FeatureSpec) -> dict[str, np.ndarray]:
    t = spec.target
    out = {f"{t}_lag_{k}": shift(y, pos, k - 1) for k in spec.lags}
    for w in spec.windows:
        out[f"{t}_ma_{w}"], out[f"{t}_sd_{w}"] = window_mean_std(y, pos, w)
    for k in spec.deltas:
        out[f"{t}_delta_{k}"] = y - shift(y, pos, k)
    out[f"{t}_missing"] = np.isnan(y).astype(float)
    return out


def _sensor_features(sensor: str, v: np.ndarray, pos: np.ndarray, spec: FeatureSpec) -> dict[str, np.ndarray]:
    out = {f"{sensor}_ma_{w}": window_mean_std(v, pos, w)[0] for w in spec.sensor_windows}
    out.update({f"{sensor}_delta_{k}": v - shift(v, pos, k) for k in spec.deltas})
    return out


def _attribute_features(
    target: np.ndarray, machine_type: np.ndarray | None, rated: np.ndarray | None, spec: FeatureSpec
) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    if machine_type is not None:
        index, types = pd.factorize(np.asarray(machine_type, dtype=object))  # missing types: index -1
        out["machine_type_code"] = np.asarray([*map(machine_type_code, types), np.nan], dtype=float)[index]
    if rated is not None:
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"{spec.target}_load"] = np.where(rated > 0, target / rated, np.nan)
    return out


class IncrementalFeatures:
    """The live path: feed new minutes as they arrive, get their feature rows, identical to the batch path.

    It keeps, per machine, the last `spec.lookback + revision` buckets. New rows may revise buckets up to
    `revision` minutes old (late readings): rows from the earliest revised bucket on are recomputed and
    returned again. Older revisions raise a PowercastError (recompute in batch instead).
    """

    def __init__(self, spec: FeatureSpec, revision: int = 15):
        self.spec = spec
        self.revision = revision
        self._tail: pd.DataFrame | None = None
        self._first: dict[str, pd.Timestamp] = {}
        self._last: dict[str, pd.Timestamp] = {}

    def update(self, new: pd.DataFrame) -> pd.DataFrame:
        """Feature rows for the new (or revised) minutes, and for any gap buckets before them."""
        new = to_grid(new, self.spec.target) if len(new) else new
        if new.empty:
            return derive_features(new, self.spec)
        earliest = new.groupby("machine_id")["ts"].min()
        self._check_revisions(earliest)
        combined = new
        if self._tail is not None:  # new rows replace the buffer's rows for the same minutes (revisions)
            revised = pd.MultiIndex.from_frame(self._tail[KEY]).isin(pd.MultiIndex.from_frame(new[KEY]))
            combined = pd.concat([self._tail[~revised], new], ignore_index=True)
        features = derive_features(combined, self.spec)
        starts = {m: min(t, self._last[m] + MINUTE) if m in self._last else t for m, t in earliest.items()}
        emit_from = features["machine_id"].map(starts)
        out = features[emit_from.notna() & (features["ts"] >= emit_from)].reset_index(drop=True)
        self._remember(features[combined.columns.intersection(features.columns)])
        return out

    def _check_revisions(self, earliest: pd.Series) -> None:
        for machine, ts in earliest.items():
            if machine not in self._last or ts > self._last[machine]:
                continue
            tail_start = self._tail.loc[self._tail["machine_id"] == machine, "ts"].min()
            needed = ts - (self.spec.lookback - 1) * MINUTE
            if tail_start > needed and tail_start > self._first[machine]:
                raise PowercastError(
                    f"minute {ts} of machine {machine} is older than the live feature buffer keeps",
                    "recompute features in batch (derive_features) or raise IncrementalFeatures(revision=...)",
                )

    def _remember(self, grid: pd.DataFrame) -> None:
        keep = self.spec.lookback + self.revision
        for machine, ts in grid.groupby("machine_id")["ts"]:
            self._first.setdefault(machine, ts.min())
            self._last[machine] = max(ts.max(), self._last.get(machine, ts.max()))
        position_from_end = grid.groupby("machine_id").cumcount(ascending=False)
        self._tail = grid[position_from_end < keep].reset_index(drop=True)
