"""Expanding-window cross-validation: fold layout, actuals, and no leakage from the future."""

import numpy as np
import pandas as pd
import pytest

from powercast.errors import PowercastError
from powercast.models.baselines import MovingAverage, Persistence
from powercast.models.cv import cross_validate, plan_folds
from powercast.models.xgb import XGBoostForecaster
from tests.simulated import minute_frame


@pytest.fixture(scope="module")
def frame():
    return minute_frame(days=2, n_machines=2, seed=3)


def test_folds_expand_and_tile_the_end(frame):
    folds = plan_folds(frame, n_windows=3, horizon=15, window=120)
    end = frame["ts"].max() + pd.Timedelta(minutes=1)
    assert folds[-1][1] == end
    assert [b - a for a, b in folds] == [pd.Timedelta(minutes=120)] * 3
    assert all(folds[i][1] == folds[i + 1][0] for i in range(2))


def test_too_short_data_is_a_clear_error(frame):
    with pytest.raises(PowercastError, match="training data before the first test window"):
        plan_folds(frame[frame.ts < frame.ts.min() + pd.Timedelta(hours=4)], n_windows=3, horizon=15, window=60)


def test_cv_frame_has_actuals_persistence_and_folds(frame):
    cv = cross_validate(Persistence(), frame, n_windows=2, window=120, issue_every=30)
    assert set(cv["fold"]) == {0, 1}
    assert (cv["issue_ts"] >= cv["cutoff"]).all()
    row = cv.iloc[20]
    grid = frame[frame.machine_id == row.machine_id].set_index("ts")["power"]
    assert row.y == grid[row.ts]
    assert row.persistence == grid[row.issue_ts - pd.Timedelta(minutes=1)]
    np.testing.assert_allclose(cv["yhat"], cv["persistence"])  # persistence is the persistence column
    assert row.seasonal_day == grid[row.ts - pd.Timedelta(days=1)]
    # two days of data hold no week-ago minute: the weekly reference falls back to one day earlier
    np.testing.assert_allclose(cv["seasonal_week"], cv["seasonal_day"])
    assert (cv["power_scale"] > 0).all()


@pytest.mark.parametrize(
    "model",
    [MovingAverage(window=5), XGBoostForecaster(n_estimators=15, stride=10, early_stopping_rounds=5)],
    ids=["moving_average", "xgb"],
)
def test_perturbing_the_future_changes_no_forecast_issued_before_it(frame, model):
    folds = plan_folds(frame, n_windows=2, horizon=15, window=180)
    perturb_from = folds[1][0] + pd.Timedelta(minutes=60)
    future = frame["ts"] >= perturb_from
    rng = np.random.default_rng(0)
    changed = frame.copy()
    for column in ["power", "temperature", "vibration", "pressure", "power_max", "power_last"]:
        changed.loc[future, column] = rng.uniform(0, 1e5, future.sum())
    a = cross_validate(model, frame, n_windows=2, window=180, issue_every=20)
    b = cross_validate(model, changed, n_windows=2, window=180, issue_every=20)
    before = a["issue_ts"] <= perturb_from
    assert before.sum() > 100 and (~before).sum() > 100
    cols = ["yhat", "yhat_lo", "yhat_hi"]
    np.testing.assert_array_equal(a.loc[before, cols].to_numpy(), b.loc[before, cols].to_numpy())
    assert not np.allclose(a.loc[~before, "yhat"], b.loc[~before, "yhat"])  # the check can fail


def test_backtest_is_cross_validation_from_the_forecaster(frame):
    direct = cross_validate(Persistence(), frame, n_windows=2, window=120)
    via_interface = Persistence().backtest(frame, n_windows=2, window=120)
    pd.testing.assert_frame_equal(direct, via_interface)
