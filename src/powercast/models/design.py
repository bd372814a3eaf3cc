"""The learned models' inputs and targets, built from the one FeatureSpec (`powercast.features`).

For each (machine, issue time T) the feature row is the derived row at bucket T - 1 min (it holds only buckets
before T). A global model over machines of very different size learns better in relative units, so:
- the *anchor* is the last observed power before T (at most `spec.history` minutes old) and the *scale* the
  machine's power scale (rated power, else the 99th percentile seen at fit time);
- power levels (lags, moving averages) enter as (level - anchor) / scale, spreads and deltas as value / scale,
  the anchor itself as anchor / scale; everything else (other sensors, time, attributes) as derived;
- targets are (y - anchor) / scale, and forecasts are mapped back with anchor + scale * output.

Known-future inputs (`Design.future`, one row per forecast step) come from the machine's learned load profile
(`powercast.features.profile`): the typical relative load at the step's minute, its change since the last
observed minute, and its gap to the current level.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from powercast.features.aggregate import ffill
from powercast.features.derive import derive_features, derived_columns, feature_columns, other_sensors
from powercast.features.frame import MINUTE
from powercast.features.machine import MachineMinutes
from powercast.features.profile import LoadProfile
from powercast.features.quality import quality_report
from powercast.features.spec import FeatureSpec
from powercast.features.windows import targets, training_index

log = logging.getLogger(__name__)
RAW_W_COLUMNS = ("rated_power_w",)
_MINUTES_KEY = 1 << 40  # more minutes than any timestamp holds: machine * _MINUTES_KEY + minute is unique
FUTURE_COLUMNS = ("profile", "profile_change", "profile_gap")


@dataclass
class Design:
    """Model inputs for a set of issues, with what is needed to map outputs back to watts."""

    index: pd.DataFrame  # machine_id, issue_ts
    X: pd.DataFrame  # float32 features, one row per issue
    anchor: np.ndarray  # [n] W
    scale: np.ndarray  # [n] W
    stuck: np.ndarray  # [n] bool: the power sensor repeated one non-zero value for spec.stuck_window minutes
    y: np.ndarray | None = None  # [n, horizon] W, NaN where the bucket is missing
    future: np.ndarray | None = None  # [n, horizon, len(FUTURE_COLUMNS)] known-future inputs, None without a profile

    def relative_targets(self) -> np.ndarray:
        return (self.y - self.anchor[:, None]) / self.scale[:, None]

    def trainable(self) -> np.ndarray:
        """[n] bool: issues with a power reading to start from and a power sensor that is not stuck."""
        return np.isfinite(self.anchor) & ~self.stuck

    def to_watts(self, relative: np.ndarray) -> np.ndarray:
        """Map relative outputs [n, ...] back to watts."""
        shape = (-1,) + (1,) * (relative.ndim - 1)
        return self.anchor.reshape(shape) + self.scale.reshape(shape) * relative


def step_scales(relative: np.ndarray, balance: float = 1.0) -> np.ndarray:
    """What the learned models divide each step's relative target [n, horizon] by: the step's mean absolute change
    over the training issues raised to `balance` (0: nothing is divided; 1: every step weighs alike in the loss),
    1 where a step has no finite change or never changes. Without it the far steps, whose changes are about five
    times larger, dominate the loss and the first minutes come out worse than persistence."""
    finite = np.isfinite(relative)
    count = finite.sum(axis=0)
    total = np.where(finite, np.abs(relative), 0.0).sum(axis=0)
    scale = np.divide(total, count, out=np.ones(relative.shape[1]), where=count > 0)
    return np.where(np.isfinite(scale) & (scale > 1e-9), scale, 1.0) ** balance


def checked_step_balance(balance: float) -> float:
    if not 0 <= balance <= 1:
        raise ValueError(f"step_balance {balance} is not in [0, 1]")
    return balance


def from_step_units(relative: np.ndarray, step_scale: np.ndarray | None) -> np.ndarray:
    """A model's outputs [n, horizon, ...] in step units back in scale units. A model saved before per-step
    normalisation has no step scales (None): its targets were not divided."""
    if step_scale is None:
        return relative
    return relative * step_scale.reshape((1, -1) + (1,) * (relative.ndim - 2))


def _level_and_spread_columns(spec: FeatureSpec, columns: list[str]) -> tuple[list[str], list[str]]:
    t = spec.target
    levels = [c for c in columns if c.startswith((f"{t}_lag_", f"{t}_ma_"))]
    spreads = [c for c in columns if c.startswith((f"{t}_sd_", f"{t}_delta_")) or c == f"{t}_std"]
    return levels, spreads


def build_design(
    frame: pd.DataFrame,
    spec: FeatureSpec,
    scales: dict[str, float],
    index: pd.DataFrame | None = None,
    stride: int = 1,
    with_targets: bool = False,
    profile: LoadProfile | None = None,
    leave_day_out: bool = False,
) -> Design:
    """Inputs (and optionally targets) for `index` issues, default every `stride` minutes with full history;
    with a `profile`, also the known-future inputs (`leave_day_out` for training rows)."""
    features = derive_features(frame, spec)
    if index is None:
        index = training_index(features, spec, stride=stride, complete=False)
    index = index.reset_index(drop=True)
    rows = _feature_rows(features, index)
    found = rows >= 0
    columns = feature_columns(spec, features)
    raw = features[columns].to_numpy(np.float64)[np.where(found, rows, 0)]
    raw[~found] = np.nan
    table = pd.DataFrame(raw, columns=columns)
    held = features.groupby("machine_id", sort=False)[spec.target].ffill(limit=spec.history).to_numpy(float)
    anchor = np.where(found, held[np.where(found, rows, 0)], np.nan)
    scale = index["machine_id"].map(scales).to_numpy(float)
    X = _relative_inputs(table, spec, anchor, scale)
    stuck_column = f"{spec.target}_stuck"
    flat = table[stuck_column].to_numpy() > 0 if stuck_column in table else np.zeros(len(table), dtype=bool)
    stuck = flat & (anchor != 0)  # a machine switched off reads a flat 0 W: that is real, not a stuck sensor
    y = targets(features, index, spec.horizon, target=spec.target) if with_targets else None
    future = None if profile is None else future_inputs(profile, index, anchor / scale, spec.horizon, leave_day_out)
    return Design(index=index, X=X, anchor=anchor, scale=scale, stuck=stuck, y=y, future=future)


@dataclass(frozen=True)
class MachineInputs:
    """`Design` of one machine's issue at the minute after its last bucket, as arrays (see `machine_inputs`)."""

    issue_ns: int
    X: np.ndarray  # [1, len(names)] float32
    names: list[str]
    anchor: np.ndarray  # [1] W
    scale: np.ndarray  # [1] W
    stuck: np.ndarray  # [1] bool
    future: np.ndarray | None = None  # [1, horizon, len(FUTURE_COLUMNS)]

    def to_watts(self, relative: np.ndarray) -> np.ndarray:
        shape = (-1,) + (1,) * (relative.ndim - 1)
        return self.anchor.reshape(shape) + self.scale.reshape(shape) * relative


def machine_inputs(
    minutes: MachineMinutes, spec: FeatureSpec, scale: float, profile: LoadProfile | None = None
) -> MachineInputs:
    """What `build_design` gives for one machine's minute frame and its default issue time (the minute after the
    last bucket), built on the machine's arrays instead of frames: the same feature code, the same values."""
    n = len(minutes)
    sensors = {s: minutes.columns[s] for s in [spec.target, *other_sensors(minutes.columns, spec)]}
    rated = np.full(n, np.nan if minutes.rated_power_w is None else minutes.rated_power_w, dtype=float)
    derived = derived_columns(
        sensors, np.arange(n), minutes.bucket_ns, spec, np.full(n, minutes.machine_type, dtype=object), rated
    )
    values = {**minutes.columns, "rated_power_w": rated, **derived}
    columns = feature_columns(spec, values.keys())
    raw = np.asarray([[values[c][-1] for c in columns]], dtype=np.float64)
    anchor = ffill(sensors[spec.target], spec.history)[-1:]
    scales = np.array([scale], dtype=float)
    X, names = relative_values(raw, columns, spec, anchor, scales)
    stuck_column = f"{spec.target}_stuck"
    flat = raw[:, columns.index(stuck_column)] > 0 if stuck_column in columns else np.zeros(1, dtype=bool)
    issue_ns = int(minutes.bucket_ns[-1]) + MINUTE.value
    future = (
        None
        if profile is None
        else future_values(
            profile, np.array([minutes.machine_id], dtype=object), np.array([issue_ns]), anchor / scales, spec.horizon
        )
    )
    return MachineInputs(issue_ns, X, names, anchor, scales, flat & (anchor != 0), future)


def fit_profile(frame: pd.DataFrame, spec: FeatureSpec, scales: dict[str, float]) -> LoadProfile | None:
    """The machines' load profile for the known-future inputs; None when the spec turns it off."""
    if not spec.profile_slot:
        return None
    return LoadProfile.fit(frame, scales, target=spec.target, slot_minutes=spec.profile_slot)


def future_inputs(
    profile: LoadProfile, index: pd.DataFrame, level: np.ndarray, horizon: int, leave_day_out: bool = False
) -> np.ndarray:
    """[n, horizon, 3]: the profile at each step's minute, minus the profile at the last observed minute, and
    minus the current relative level."""
    return future_values(
        profile, index["machine_id"].to_numpy(), pd.DatetimeIndex(index["issue_ts"]).asi8, level, horizon, leave_day_out
    )


def future_values(
    profile: LoadProfile,
    machines: np.ndarray,
    issue_ns: np.ndarray,
    level: np.ndarray,
    horizon: int,
    leave_day_out: bool = False,
) -> np.ndarray:
    """`future_inputs` of the issues (`machines[i]`, `issue_ns[i]` in UTC nanoseconds)."""
    n = len(machines)
    at_steps = np.repeat(issue_ns, horizon) + np.tile(np.arange(horizon) * MINUTE.value, n)
    ahead = profile.lookup_ns(np.repeat(machines, horizon), at_steps, leave_day_out).reshape(n, horizon)
    now = profile.lookup_ns(machines, issue_ns - MINUTE.value, leave_day_out)
    return np.stack([ahead, ahead - now[:, None], ahead - level[:, None]], axis=-1).astype(np.float32)


def _feature_rows(features: pd.DataFrame, index: pd.DataFrame) -> np.ndarray:
    """Row of `features` holding the feature row of each issue (bucket issue_ts - 1 min); -1 when absent."""
    machines = pd.Index(pd.unique(features["machine_id"].astype(str)))
    keys, _ = _minute_keys(machines.get_indexer(features["machine_id"].astype(str)), features["ts"])
    wanted, valid = _minute_keys(machines.get_indexer(index["machine_id"].astype(str)), index["issue_ts"] - MINUTE)
    return np.where(valid, pd.Index(keys).get_indexer(wanted), -1)


def _minute_keys(machine_codes: np.ndarray, ts: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """One integer per (machine, minute) (a hash lookup is much cheaper than a MultiIndex); valid is False for
    an unknown machine or a time that is not a minute start."""
    ns = ts.to_numpy(dtype="datetime64[ns]").view(np.int64)
    valid = (machine_codes >= 0) & (ns % MINUTE.value == 0) & ts.notna().to_numpy()
    return machine_codes * _MINUTES_KEY + ns // MINUTE.value, valid


def _relative_inputs(table: pd.DataFrame, spec: FeatureSpec, anchor: np.ndarray, scale: np.ndarray) -> pd.DataFrame:
    values, names = relative_values(table.to_numpy(np.float64), list(table.columns), spec, anchor, scale)
    return pd.DataFrame(values, columns=names)


def relative_values(
    raw: np.ndarray, columns: list[str], spec: FeatureSpec, anchor: np.ndarray, scale: np.ndarray
) -> tuple[np.ndarray, list[str]]:
    """float32 model inputs [n, k] and their names from the raw feature rows `raw` [n, len(columns)] (float64):
    levels relative to the anchor, spreads relative to the scale, plus the relative level and log rated power."""
    levels, spreads = _level_and_spread_columns(spec, columns)
    names = [c for c in columns if c not in RAW_W_COLUMNS]
    at = {c: i for i, c in enumerate(columns)}
    values = raw[:, [at[c] for c in names]]  # one array, not a column assignment per feature
    at = {c: i for i, c in enumerate(names)}
    extra = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for c in levels:
            values[:, at[c]] = (values[:, at[c]] - anchor) / scale
        for c in spreads:
            values[:, at[c]] = values[:, at[c]] / scale
        extra[f"{spec.target}_level"] = anchor / scale
    if "rated_power_w" in columns:
        extra["log_rated_power"] = np.log10(np.clip(raw[:, columns.index("rated_power_w")], 1, None))
    values = np.column_stack([values, *extra.values()]) if extra else values
    return values.astype(np.float32), [*names, *extra]


def report_data_issues(frame: pd.DataFrame, spec: FeatureSpec, what: str) -> list[str]:
    """Log one warning per machine with gaps, a stuck power sensor or too little history; return the machines
    that lack the history a forecast needs."""
    report = quality_report(frame, spec)
    stuck_col = f"{spec.target}_stuck_minutes"
    short = []
    for row in report.itertuples(index=False):
        if not row.enough_history:
            short.append(row.machine_id)
            log.warning(
                "%s: machine %s has %d minute(s) of %s history, %d needed: left out",
                what,
                row.machine_id,
                row.history_minutes,
                spec.target,
                spec.min_history,
            )
        if row.missing_share > 0.05:
            log.warning(
                "%s: machine %s misses %.0f%% of its %s minutes (gaps are left as NaN inputs and never "
                "used as targets)",
                what,
                row.machine_id,
                100 * row.missing_share,
                spec.target,
            )
        stuck = getattr(row, stuck_col, 0)
        if stuck:
            log.warning(
                "%s: machine %s's %s sensor repeated one value for %d window(s) of %d minutes (looks stuck): "
                "those issue times are not used for training",
                what,
                row.machine_id,
                spec.target,
                stuck,
                spec.stuck_window,
            )
    return short


def training_frame(frame: pd.DataFrame, spec: FeatureSpec, model: str) -> pd.DataFrame:
    """The machines of a checked minute frame that have the history a forecast needs (issues are logged);
    a clear error when none has."""
    from powercast.errors import PowercastError
    from powercast.models.frame import model_frame

    frame = model_frame(frame)
    short = report_data_issues(frame, spec, f"{model} fit")
    frame = frame[~frame["machine_id"].isin(short)]
    if frame.empty:
        raise PowercastError(
            f"{model}: no machine has the {spec.min_history} minutes of history needed",
            "give each machine more history",
        )
    return frame
