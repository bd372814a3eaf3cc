"""The registered pyfunc wrapper: long readings in, forecast frame out, short history refused or skipped."""

import pandas as pd
import pytest

from powercast.errors import InsufficientHistory
from powercast.models.frame import FORECAST_COLUMNS
from powercast.scoring.model import BadReadings, ForecasterModel, history_shortfalls, minute_frame
from tests.mlops.fakes import LastValue, long_readings


def _model(min_history=60):
    readings = long_readings(minutes=120)
    frame = minute_frame(readings)
    return ForecasterModel(LastValue().fit(frame), {"history": 60}, min_history, "last_value")


def test_forecasts_each_machine_from_the_minute_after_its_last_reading():
    model = _model()
    out = model.predict(None, long_readings(machines=2, minutes=70))
    assert list(out.columns) == FORECAST_COLUMNS
    assert out.groupby("machine_id").size().to_dict() == {"M-001": 15, "M-002": 15}
    assert (pd.to_datetime(out["issue_ts"]) == pd.Timestamp("2026-11-25 12:00", tz="UTC")).all()
    assert (out["yhat_lo"] <= out["yhat"]).all() and (out["yhat"] <= out["yhat_hi"]).all()


def test_string_timestamps_are_accepted():
    readings = long_readings(machines=1, minutes=70)
    readings["ts"] = readings["ts"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert len(_model().predict(None, readings)) == 15


def test_too_little_history_names_the_machine():
    readings = pd.concat(
        [long_readings(machines=1, minutes=70), long_readings(machines=2, minutes=20).query("machine_id == 'M-002'")]
    )
    with pytest.raises(InsufficientHistory) as err:
        _model().predict(None, readings)
    assert list(err.value.shortfalls) == ["M-002"] and "needed" in err.value.shortfalls["M-002"]


def test_skip_mode_scores_the_rest():
    readings = pd.concat(
        [long_readings(machines=1, minutes=70), long_readings(machines=2, minutes=20).query("machine_id == 'M-002'")]
    )
    result = _model().score(readings, skip_insufficient=True)
    assert set(result.forecast["machine_id"]) == {"M-001"} and set(result.skipped) == {"M-002"}


def test_gaps_count_against_history():
    frame = minute_frame(long_readings(machines=1, minutes=60))
    assert history_shortfalls(frame, 60) == {}
    frame.loc[frame.index[-30:], "power"] = float("nan")
    assert "30 of the last 60" in history_shortfalls(frame, 60)["M-001"]


@pytest.mark.parametrize(
    "change",
    [
        lambda r: r.drop(columns=["value"]),
        lambda r: r.assign(ts="yesterday"),
        lambda r: r[r["sensor"] != "power"],
    ],
)
def test_bad_readings_are_refused_clearly(change):
    with pytest.raises(BadReadings):
        _model().predict(None, change(long_readings(machines=1, minutes=70)))


def test_attributes_of_known_machines_fill_in_when_a_request_lacks_them():
    known = pd.DataFrame(
        {"machine_id": ["M-001", "M-002"], "machine_type": ["press", "oven"], "rated_power_w": [11000.0, 5000.0]}
    )
    frame = minute_frame(long_readings(machines=2, minutes=5), known)
    assert frame.groupby("machine_id")["rated_power_w"].first().to_dict() == {"M-001": 11000.0, "M-002": 5000.0}
    sent = long_readings(machines=1, minutes=5).assign(rated_power_w=22000.0)
    assert set(minute_frame(sent, known)["rated_power_w"]) == {22000.0}  # what the request says wins


@pytest.mark.parametrize(
    "scale, level", [(1.0, 5.0), (-1.0, 1000.0)], ids=["band reaching below zero", "negative point forecast"]
)
def test_forecasts_and_bands_are_clipped_at_zero_power(scale, level):
    import numpy as np

    from tests.unit.test_serving_machine import machine_readings_of

    model = ForecasterModel(LastValue(scale=scale).fit(minute_frame(long_readings(minutes=120))), {}, 60, "lv")
    readings = long_readings(machines=1, minutes=70)
    power = readings["sensor"] == "power"
    readings.loc[power, "value"] = level + np.random.default_rng(0).normal(0, 1, power.sum())
    raw = model.forecaster.predict(minute_frame(readings))
    assert (raw["yhat_lo"] < 0).all()  # the model itself goes below zero
    framed = model.score(readings).forecast
    one = model.score_machine(machine_readings_of(readings))
    served = model.predict(None, readings)
    for lo, yhat, hi in [
        (framed["yhat_lo"], framed["yhat"], framed["yhat_hi"]),
        (one.yhat_lo, one.yhat, one.yhat_hi),
        (served["yhat_lo"], served["yhat"], served["yhat_hi"]),
    ]:
        lo, yhat, hi = (np.asarray(c, dtype=float) for c in (lo, yhat, hi))
        assert (lo >= 0).all() and (lo <= yhat).all() and (yhat <= hi).all()
        np.testing.assert_array_equal(yhat, np.maximum(raw["yhat"].to_numpy(float), 0.0))
