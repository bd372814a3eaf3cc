"""Data drift of the model's inputs between the window a champion was trained on and the recent window.

Both windows are minute frames; the features compared are the sensor aggregates and the derived features the
forecasters read (`DRIFT_FEATURES`, those present). Evidently's `DataDriftPreset` tests each with the normed
Wasserstein distance (`FEATURE_THRESHOLD`) and counts drifted columns; the share of drifted features is what the
retraining decision compares with its threshold. Prediction drift is the same test on the forecasts issued in the
current window against those issued in the window before it.

Bad input never raises: an empty window, features that are all missing, machines without reference data
each give a result that says so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from powercast.features.derive import derive_features
from powercast.features.profile import day_class
from powercast.features.spec import FeatureSpec

log = logging.getLogger(__name__)

DRIFT_FEATURES = (
    "power",
    "power_load",
    "power_std",
    "power_ma_15",
    "power_sd_15",
    "power_delta_5",
    "temperature",
    "temperature_delta_5",
    "vibration",
    "vibration_ma_15",
    "pressure",
    "pressure_delta_5",
)
KEY_COLUMNS = ("machine_id", "ts", "time_of_week")
MAX_ROWS = 20_000  # per window: Evidently's tests are as decisive on a seeded sample and much faster
MIN_ROWS = 30  # fewer rows in a window than this: no drift test is meaningful
# Normed Wasserstein distance (the shift in units of the reference's spread) on every numeric feature, one test
# whatever the sample size. A week of ordinary bearing wear moves vibration by 0.1-0.2 of its spread, which
# Evidently's default threshold (0.1) would call drift; a regime change moves features by several spreads.
METHOD = "wasserstein"
FEATURE_THRESHOLD = 0.3


@dataclass(frozen=True)
class FeatureDrift:
    feature: str
    method: str
    score: float
    threshold: float
    drifted: bool


@dataclass
class DriftResult:
    """What the drift check found. `snapshot` (Evidently's result, for the HTML report) is None when no test
    could run; `notes` say why and what was left out."""

    drifted_share: float | None
    features: list[FeatureDrift] = field(default_factory=list)
    prediction_drift: FeatureDrift | None = None
    reference_rows: int = 0
    current_rows: int = 0
    notes: list[str] = field(default_factory=list)
    snapshot: object | None = field(default=None, repr=False)

    def top(self, n: int = 5) -> list[FeatureDrift]:
        """The drifted features first, then by how far each is past its threshold."""
        return sorted(self.features, key=lambda f: (not f.drifted, -_excess(f)))[:n]


def drift_features(frame: pd.DataFrame, spec: FeatureSpec | None = None) -> pd.DataFrame:
    """The drift features of a minute frame: one row per machine and minute with a power value, with
    `machine_id`, `ts` and the minute's `time_of_week` (day class and hour, see `same_times_of_week`)."""
    spec = spec or FeatureSpec()
    if frame.empty:
        return pd.DataFrame(columns=[*KEY_COLUMNS, *DRIFT_FEATURES])
    derived = derive_features(frame, spec)
    derived = derived[derived[spec.target].notna()]
    out = derived[["machine_id", "ts", *[c for c in DRIFT_FEATURES if c in derived.columns]]].reset_index(drop=True)
    ts = out["ts"].dt.tz_convert("UTC")
    out.insert(2, "time_of_week", day_class(ts.dt.dayofweek.to_numpy()) * 24 + ts.dt.hour.to_numpy())
    return out


def same_times_of_week(reference: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """The reference rows at the times of week the current window covers (day class and hour of day).

    Load follows shifts and weekends, so a weekday's readings compared with a training window that holds
    weekends would always look drifted; like is compared with like instead.
    """
    return reference[reference["time_of_week"].isin(set(current["time_of_week"]))].reset_index(drop=True)


def compare(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    reference_predictions: pd.Series | None = None,
    current_predictions: pd.Series | None = None,
    seed: int = 0,
) -> DriftResult:
    """Drift of `current` against `reference` (frames of drift features, see `drift_features`)."""
    notes: list[str] = []
    result = DriftResult(None, reference_rows=len(reference), current_rows=len(current), notes=notes)
    if len(current) < MIN_ROWS or len(reference) < MIN_ROWS:
        notes.append(
            f"too few rows to test (reference {len(reference)}, current {len(current)}; at least {MIN_ROWS} each)"
        )
        return result
    columns = _testable_columns(reference, current, notes)
    if not columns:
        notes.append("no feature has values in both windows")
        return result
    ref, cur = (_sample(frame[columns], seed) for frame in (reference, current))
    result.snapshot, result.features = _evidently(ref, cur)
    drifted = sum(f.drifted for f in result.features)
    result.drifted_share = drifted / len(result.features) if result.features else None
    if reference_predictions is not None and current_predictions is not None:
        result.prediction_drift = _prediction_drift(reference_predictions, current_predictions, seed, notes)
    return result


def _testable_columns(reference: pd.DataFrame, current: pd.DataFrame, notes: list[str]) -> list[str]:
    columns, empty = [], []
    for column in DRIFT_FEATURES:
        if column not in reference.columns or column not in current.columns:
            continue
        if reference[column].notna().sum() < MIN_ROWS or current[column].notna().sum() < MIN_ROWS:
            empty.append(column)
            continue
        columns.append(column)
    if empty:
        notes.append(f"left out, too few values in a window: {', '.join(empty)}")
    return columns


def _sample(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    frame = frame.astype(float)
    return frame.sample(MAX_ROWS, random_state=seed) if len(frame) > MAX_ROWS else frame


def _evidently(reference: pd.DataFrame, current: pd.DataFrame) -> tuple[object, list[FeatureDrift]]:
    from evidently import Report
    from evidently.presets import DataDriftPreset

    preset = DataDriftPreset(num_method=METHOD, num_threshold=FEATURE_THRESHOLD)
    snapshot = Report([preset]).run(current_data=current, reference_data=reference)
    features = []
    for metric in snapshot.dict()["metrics"]:
        config = metric.get("config") or {}
        if not str(config.get("type", "")).endswith("ValueDrift"):
            continue
        score, threshold, method = float(metric["value"]), float(config["threshold"]), str(config["method"])
        features.append(FeatureDrift(config["column"], method, score, threshold, _is_drift(method, score, threshold)))
    return snapshot, features


def _is_drift(method: str, score: float, threshold: float) -> bool:
    """p-value tests drift below their threshold; distances drift at or above it."""
    if np.isnan(score):
        return False
    return score < threshold if "p_value" in method.lower() else score >= threshold


def _excess(f: FeatureDrift) -> float:
    if "p_value" in f.method.lower():
        return (f.threshold - f.score) / f.threshold if f.threshold else 0.0
    return (f.score - f.threshold) / f.threshold if f.threshold else f.score


def _prediction_drift(reference: pd.Series, current: pd.Series, seed: int, notes: list[str]) -> FeatureDrift | None:
    reference, current = reference.dropna(), current.dropna()
    if len(reference) < MIN_ROWS or len(current) < MIN_ROWS:
        notes.append("prediction drift not tested: too few forecasts in one of the windows")
        return None
    frames = [_sample(s.to_frame("prediction"), seed) for s in (reference, current)]
    _, found = _evidently(*frames)
    return found[0] if found else None


def decide(
    result: DriftResult,
    error_ratio: float | None,
    *,
    drift_share: float,
    error_limit: float,
) -> tuple[str, str]:
    """('retrain' | 'ok' | 'insufficient_data', the reason in words): retrain when at least `drift_share` of the
    features drifted, or when matured forecasts err `error_limit` times the cross-validation MAE or more
    (the defaults are the settings `drift_share` and `drift_error_ratio`)."""
    reasons = []
    if result.drifted_share is not None and result.drifted_share >= drift_share:
        drifted = ", ".join(f.feature for f in result.top() if f.drifted)
        reasons.append(f"{result.drifted_share:.0%} of the input features drifted (>= {drift_share:.0%}: {drifted})")
    if error_ratio is not None and error_ratio >= error_limit:
        reasons.append(f"matured forecasts err {error_ratio:.2f}x the cross-validation MAE (>= {error_limit})")
    if reasons:
        return "retrain", "; ".join(reasons)
    if result.drifted_share is None and error_ratio is None:
        return "insufficient_data", "; ".join(result.notes) or "nothing to compare"
    share = "not tested" if result.drifted_share is None else f"{result.drifted_share:.0%} of features drifted"
    ratio = "no matured forecasts" if error_ratio is None else f"error {error_ratio:.2f}x cross-validation"
    return "ok", f"{share}, {ratio}"
