"""Holdout issue times, the logged input example, and JSON-safe decision details."""

import math

import pandas as pd
import pytest

from powercast.errors import PowercastError
from powercast.scoring.model import ForecasterModel, minute_frame
from powercast.training.holdout import evaluation_frame, holdout_issue_times, training_part, unseen_window
from powercast.training.promotion_log import _json_safe
from powercast.training.tracking import readings_example
from tests.mlops.fakes import LastValue, long_readings


def _frame(minutes=240):
    return minute_frame(long_readings(machines=2, minutes=minutes))


def test_issue_times_cover_the_last_hours_and_leave_room_for_the_horizon():
    frame = _frame()
    times = holdout_issue_times(frame, hours=2, horizon=15, every=5)
    end = frame["ts"].max() + pd.Timedelta(minutes=1)
    assert times[0] == end - pd.Timedelta(hours=2)
    assert times[-1] <= end - pd.Timedelta(minutes=15)
    assert all(b - a == pd.Timedelta(minutes=5) for a, b in zip(times, times[1:]))


def test_a_holdout_shorter_than_the_horizon_is_refused():
    with pytest.raises(PowercastError, match="--hours"):
        holdout_issue_times(_frame(), hours=0.2, horizon=15)


def test_issue_times_start_no_earlier_than_asked():
    frame = _frame()
    not_before = frame["ts"].max() - pd.Timedelta(minutes=59, seconds=30)
    times = holdout_issue_times(frame, hours=3, horizon=15, every=5, not_before=not_before)
    assert times[0] == not_before.ceil("min")


def test_training_part_keeps_the_latest_hours_back():
    frame = _frame(minutes=240)
    part = training_part(frame, holdout_hours=1)
    assert part["ts"].max() == frame["ts"].max() - pd.Timedelta(minutes=60)
    assert training_part(frame, 0) is frame
    with pytest.raises(PowercastError, match="--holdout-hours"):
        training_part(frame, holdout_hours=5)


def test_the_holdout_starts_after_the_newest_training_data():
    until = pd.Timestamp("2026-11-18 15:00", tz="UTC")
    assert unseen_window(until, 6, [None, None], 15) == pytest.approx(6)
    assert unseen_window(until, 6, [until - pd.Timedelta(hours=8)], 15) == pytest.approx(6)
    newest = until - pd.Timedelta(hours=2, minutes=1)
    assert unseen_window(until, 6, [until - pd.Timedelta(hours=5), newest], 15) == pytest.approx(2)
    with pytest.raises(PowercastError, match="--holdout-hours"):
        unseen_window(until, 6, [until - pd.Timedelta(minutes=20)], 15)


def test_evaluation_frame_attaches_the_actual_of_each_target_bucket():
    frame = _frame()
    issue = frame["ts"].max() - pd.Timedelta(minutes=30)
    forecast = LastValue().fit(frame).predict(frame, issue_times=[issue])
    scored = evaluation_frame(forecast, frame)
    row = scored[(scored["machine_id"] == "M-001") & (scored["step"] == 3)].iloc[0]
    expected = frame[(frame["machine_id"] == "M-001") & (frame["ts"] == issue + pd.Timedelta(minutes=2))]["power"]
    assert row["y"] == pytest.approx(float(expected.iloc[0]))


def test_input_example_is_long_readings_the_model_accepts():
    frame = _frame()
    example = readings_example(frame, minutes=65)
    assert list(example.columns[:4]) == ["machine_id", "sensor", "ts", "value"]
    assert example["machine_id"].nunique() == 1 and isinstance(example["ts"].iloc[0], str)
    model = ForecasterModel(LastValue().fit(frame), {}, 60, "last_value")
    assert len(model.predict(None, example)) == 15


def test_decision_details_hold_no_nan():
    cleaned = _json_safe({"scores": {"a": {"mase": math.nan, "mae": 1.5}}, "list": [math.inf, 2]})
    assert cleaned == {"scores": {"a": {"mase": None, "mae": 1.5}}, "list": [None, 2]}


def test_training_logs_only_when_mlflow_answers_unless_told(monkeypatch):
    from powercast.config import Settings
    from powercast.stack.process import free_port
    from powercast.training.tracking import tracking_available

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    down = Settings(_env_file=None, mlflow_tracking_uri=f"http://127.0.0.1:{free_port()}")
    assert tracking_available(down, False) == (False, None)
    track, note = tracking_available(down, None)
    assert track is False and "--no-register" in note and "does not answer" in note
    with pytest.raises(PowercastError, match="powercast mlflow start"):
        tracking_available(down, True)
