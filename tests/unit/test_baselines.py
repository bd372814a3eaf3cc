"""Baselines give exactly the values their definitions say, and fall back clearly on short history."""

import logging

import numpy as np
import pandas as pd
import pytest

from powercast.errors import PowercastError
from powercast.models.baselines import MovingAverage, Persistence, SeasonalNaive
from powercast.models.catalog import make_forecaster

T0 = pd.Timestamp("2026-11-02 00:00", tz="UTC")


def ramp_frame(minutes: int, machines=("A", "B")) -> pd.DataFrame:
    parts = []
    for i, machine in enumerate(machines):
        parts.append(
            pd.DataFrame(
                {
                    "machine_id": machine,
                    "ts": pd.date_range(T0, periods=minutes, freq="min"),
                    "power": np.arange(minutes, dtype=float) + 1000 * i,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def test_persistence_repeats_the_last_observed_value():
    frame = ramp_frame(600)
    frame.loc[(frame.machine_id == "A") & (frame.ts >= T0 + pd.Timedelta(minutes=598)), "power"] = np.nan
    forecast = Persistence().fit(frame).predict(frame)
    a = forecast[forecast.machine_id == "A"]
    assert (a["yhat"] == 597.0).all()  # the last two buckets are missing: the last observed value is minute 597
    assert a["issue_ts"].iloc[0] == T0 + pd.Timedelta(minutes=600)
    assert list(a["step"]) == list(range(1, 16))
    assert (forecast[forecast.machine_id == "B"]["yhat"] == 1599.0).all()
    assert (forecast["yhat_lo"] <= forecast["yhat"]).all() and (forecast["yhat"] <= forecast["yhat_hi"]).all()


def test_persistence_band_reflects_in_sample_changes():
    model = Persistence().fit(ramp_frame(600, machines=("A",)))
    # on a ramp of +1 W/min, the error at step k is exactly k W: the band collapses onto it
    scale = model.scales_["A"]
    assert model.band_[0] * scale == pytest.approx(np.arange(1, 16), abs=1e-6)


def test_moving_average_uses_the_last_window():
    frame = ramp_frame(600)
    forecast = MovingAverage(window=10).fit(frame).predict(frame)
    assert forecast[forecast.machine_id == "A"]["yhat"].iloc[0] == pytest.approx(np.mean(np.arange(590, 600)))


def test_seasonal_naive_day_is_the_same_minute_one_day_earlier():
    frame = ramp_frame(2 * 1440 + 30)
    issue = T0 + pd.Timedelta(minutes=2 * 1440)
    forecast = SeasonalNaive("day").fit(frame).predict(frame, issue_times=[issue])
    a = forecast[forecast.machine_id == "A"]
    assert list(a["yhat"]) == list(np.arange(1440, 1455, dtype=float))


def test_seasonal_naive_week_falls_back_to_day_then_persistence(caplog):
    frame = ramp_frame(2 * 1440)
    model = SeasonalNaive("week").fit(frame)
    with caplog.at_level(logging.WARNING):
        forecast = model.predict(frame)
    a = forecast[forecast.machine_id == "A"]
    assert list(a["yhat"]) == list(np.arange(1440, 1455, dtype=float))  # one day earlier
    assert model.fallbacks_ == {"day": 30, "persistence": 0}
    assert "30 of 30 steps had no value one season earlier" in caplog.text
    assert "30 used one day earlier, 0 the last observed value" in caplog.text
    short = ramp_frame(300)
    model = SeasonalNaive("day").fit(short)
    assert (model.predict(short)["yhat"].to_numpy()[:15] == 299.0).all()
    assert model.fallbacks_["persistence"] == 30


def test_weekly_seasonal_naive_from_the_catalog_is_the_same_minute_one_week_earlier():
    frame = ramp_frame(7 * 1440 + 60)
    issue = T0 + pd.Timedelta(minutes=7 * 1440 + 30)
    model = make_forecaster("seasonal_naive_week")
    forecast = model.fit(frame).predict(frame, issue_times=[issue])
    a = forecast[forecast.machine_id == "A"]
    assert list(a["yhat"]) == list(np.arange(30, 45, dtype=float))
    assert model.fallbacks_ == {"day": 0, "persistence": 0}


def test_too_little_history_is_a_clear_error():
    with pytest.raises(PowercastError, match="too little history"):
        Persistence().fit(ramp_frame(20))


def test_bad_frames_are_refused_with_a_hint():
    with pytest.raises(PowercastError, match="lacks columns"):
        Persistence().fit(pd.DataFrame({"machine_id": ["A"], "ts": [T0]}))
    naive = ramp_frame(100).assign(ts=lambda f: f["ts"].dt.tz_localize(None))
    with pytest.raises(PowercastError, match="tz-aware"):
        Persistence().fit(naive)
