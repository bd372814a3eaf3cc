"""Gaps, NaNs, a stuck sensor and too little history give clear messages, never a crash or a silent NaN."""

import logging

import numpy as np
import pandas as pd
import pytest

from powercast.errors import PowercastError
from powercast.models.xgb import XGBoostForecaster
from tests.simulated import minute_frame

SMALL = dict(n_estimators=10, stride=10, early_stopping_rounds=5)


@pytest.fixture(scope="module")
def frame():
    return minute_frame(days=1, n_machines=3, seed=5, sensors=("power",))


def test_machine_with_too_little_history_is_left_out_with_a_warning(frame, caplog):
    young = frame[frame.machine_id == "M-003"].iloc[:30]
    data = pd.concat([frame[frame.machine_id != "M-003"], young], ignore_index=True)
    with caplog.at_level(logging.WARNING):
        model = XGBoostForecaster(**SMALL).fit(data)
    assert "machine M-003 has 30 minute(s) of power history, 60 needed: left out" in caplog.text
    assert set(model.scales_) == {"M-001", "M-002"}


def test_no_machine_with_enough_history_is_an_error(frame):
    with pytest.raises(PowercastError, match="no machine has the 60 minutes of history needed"):
        XGBoostForecaster(**SMALL).fit(frame.groupby("machine_id").head(40))


def test_gaps_and_a_stuck_sensor_are_reported_and_forecasts_still_come(frame, caplog):
    data = frame.copy()
    m1 = data.machine_id == "M-001"
    data.loc[m1 & (data.index % 7 == 0), "power"] = np.nan  # 14% of the minutes missing
    m2 = data.index[data.machine_id == "M-002"]
    data.loc[m2[600:700], "power"] = 1234.5  # flat-lined for 100 minutes
    with caplog.at_level(logging.WARNING):
        model = XGBoostForecaster(**SMALL).fit(data)
    assert "machine M-001 misses 14% of its power minutes" in caplog.text
    assert "machine M-002's power sensor repeated one value" in caplog.text
    forecast = model.predict(data)
    assert forecast[["yhat", "yhat_lo", "yhat_hi"]].notna().all().all()


def test_a_machine_silent_for_an_hour_gets_nan_forecasts_and_a_warning(frame, caplog):
    model = XGBoostForecaster(**SMALL).fit(frame)
    data = frame.copy()
    data.loc[data.index[(data.machine_id == "M-001")][-90:], "power"] = np.nan
    with caplog.at_level(logging.WARNING):
        forecast = model.predict(data)
    assert forecast.loc[forecast.machine_id == "M-001", "yhat"].isna().all()
    assert forecast.loc[forecast.machine_id != "M-001", "yhat"].notna().all()
    assert "no power reading in the hour before 1 issue time(s) of M-001" in caplog.text
