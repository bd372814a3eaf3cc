"""Drift between a training window and a recent day, on the fleet simulator's data: a regime change made with the
simulator (fast bearing wear, a new shift schedule) is drift; the same fleet running on is not."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from powercast.config import Settings
from powercast.features.aggregate import minute_frame_from_readings
from powercast.monitoring.drift import compare, decide, drift_features, same_times_of_week
from powercast.simulator.fleet import build_fleet
from powercast.simulator.history import long_readings, machine_attributes

SEED = 7
END = pd.Timestamp("2026-11-26T00:00Z")  # a Thursday: the current day is a Wednesday, the reference before it
FLEET = build_fleet(8, seed=SEED)
LIMITS = {"drift_share": Settings.model_fields["drift_share"].default, "error_limit": 1.5}


def _features(machines, start, end) -> pd.DataFrame:
    readings = long_readings(machines, start, end, seed=SEED)
    frame = minute_frame_from_readings(readings).merge(machine_attributes(machines), on="machine_id", how="left")
    return drift_features(frame)


@pytest.fixture(scope="module")
def reference():
    return _features(FLEET, END - pd.Timedelta(days=6), END - pd.Timedelta(days=1))


def _check(reference, machines):
    current = _features(machines, END - pd.Timedelta(days=1), END)
    result = compare(same_times_of_week(reference, current), current)
    return result, decide(result, None, **LIMITS)


def test_the_same_fleet_running_on_is_not_drift(reference):
    result, (decision, reason) = _check(reference, FLEET)
    assert decision == "ok", reason
    assert result.drifted_share == 0 and len(result.features) >= 10


def test_fast_bearing_wear_is_drift_and_asks_for_training(reference):
    worn = [dataclasses.replace(m, wear_per_day=m.wear_per_day * 200) if m.index % 2 else m for m in FLEET]
    result, (decision, reason) = _check(reference, worn)
    assert decision == "retrain"
    assert {"vibration", "vibration_ma_15"} <= {f.feature for f in result.features if f.drifted}
    assert "vibration" in reason


def test_a_new_shift_schedule_is_drift(reference):
    swap = {"day_shift": "three_shift", "two_shift": "day_shift", "three_shift": "day_shift"}
    rescheduled = [dataclasses.replace(m, schedule=swap[m.schedule]) for m in FLEET]
    result, (decision, _) = _check(reference, rescheduled)
    assert decision == "retrain"
    assert any(f.feature.startswith("power") and f.drifted for f in result.features)


def test_weekends_in_the_training_window_are_not_mistaken_for_drift(reference):
    current = _features(FLEET, END - pd.Timedelta(days=1), END)
    unmatched = compare(reference, current)  # a Wednesday against a window that holds a weekend
    matched = compare(same_times_of_week(reference, current), current)
    assert unmatched.drifted_share > matched.drifted_share


def test_an_empty_window_gives_a_report_that_says_so(reference):
    result = compare(reference, reference.iloc[:0])
    decision, reason = decide(result, None, **LIMITS)
    assert result.drifted_share is None and result.snapshot is None
    assert decision == "insufficient_data" and "too few rows" in reason


def test_all_missing_features_are_left_out_and_named(reference):
    current = _features(FLEET, END - pd.Timedelta(days=1), END).assign(pressure=np.nan)
    result = compare(same_times_of_week(reference, current), current)
    assert "pressure" not in {f.feature for f in result.features}
    assert any("pressure" in note for note in result.notes)
    assert result.drifted_share is not None


def test_prediction_drift_is_tested_when_both_windows_hold_forecasts(reference):
    rng = np.random.default_rng(0)
    before, now = pd.Series(rng.normal(10_000, 500, 500)), pd.Series(rng.normal(14_000, 500, 500))
    current = _features(FLEET, END - pd.Timedelta(days=1), END)
    result = compare(
        same_times_of_week(reference, current), current, reference_predictions=before, current_predictions=now
    )
    assert result.prediction_drift is not None and result.prediction_drift.drifted


def test_a_large_forecast_error_alone_asks_for_training(reference):
    result, _ = _check(reference, FLEET)
    decision, reason = decide(result, 2.0, **LIMITS)
    assert decision == "retrain" and "2.00x" in reason
