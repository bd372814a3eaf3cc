"""Small learned models fitted once per test session on four weekdays of four simulated machines."""

import pandas as pd
import pytest

from powercast.models.lstm import LSTMForecaster
from powercast.models.xgb import XGBoostForecaster
from tests.simulated import minute_frame

FRIDAY = pd.Timestamp("2026-11-06", tz="UTC")


@pytest.fixture(scope="session")
def week():
    """Monday to Friday noon of four machines (10-second physics aggregated to minutes)."""
    frame = minute_frame(days=5, n_machines=4, seed=11, start="2026-11-02")
    return frame[frame["ts"] < FRIDAY + pd.Timedelta(hours=13)].reset_index(drop=True)


@pytest.fixture(scope="session")
def train_frame(week):
    return week[week["ts"] < FRIDAY].reset_index(drop=True)


@pytest.fixture(scope="session")
def fitted(train_frame):
    """Tiny but real models: small trees and a few LSTM epochs keep the suite fast."""
    return {
        "xgb": XGBoostForecaster(n_estimators=80, stride=4, early_stopping_rounds=10).fit(train_frame),
        "lstm": LSTMForecaster(hidden=16, max_epochs=4, patience=2, stride=4, history=20, seed=1).fit(train_frame),
    }
