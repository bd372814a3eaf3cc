"""The learned models learn each step's change in units of that step's typical change and map it back to watts."""

import copy

import numpy as np
import pytest

from powercast.models.calibration import identity
from powercast.models.frame import grids, last_observed
from powercast.models.lstm import LSTMForecaster
from powercast.models.xgb import XGBoostForecaster

NAMES = ["xgb", "lstm"]


def _issue_times(week):
    return list(week["ts"].max().floor("D") + np.arange(1, 6) * np.timedelta64(90, "m"))


def _change(model, week):
    """Each forecast's median minus the last observed power of its machine."""
    forecast = model.predict(week, issue_times=_issue_times(week))
    by_machine = grids(week)
    anchor = [
        last_observed(by_machine[m], by_machine[m].pos(t)) for m, t in zip(forecast["machine_id"], forecast["issue_ts"])
    ]
    return forecast["yhat"].to_numpy() - np.asarray(anchor)


def _uncalibrated(model):
    return copy.copy(model).set_calibration(identity(model.horizon))


def test_the_far_steps_change_more_than_the_first(fitted):
    scale = fitted["xgb"].step_scale_  # step_balance 1 by default
    assert scale.shape == (fitted["xgb"].horizon,) and (scale > 0).all()
    assert scale[-1] > 2 * scale[0], scale
    np.testing.assert_array_equal(fitted["lstm"].step_scale_, np.ones(fitted["lstm"].horizon))  # 0 by default


@pytest.mark.parametrize("name", NAMES)
def test_the_model_output_is_multiplied_back_by_each_steps_scale(fitted, week, name):
    model = _uncalibrated(fitted[name])
    doubled = copy.copy(model)
    doubled.step_scale_ = 2 * model.step_scale_
    change = _change(model, week)
    assert np.abs(change).max() > 1.0
    np.testing.assert_allclose(_change(doubled, week), 2 * change, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("name", NAMES)
def test_a_model_saved_without_step_scales_scores_its_output_unscaled(fitted, week, name):
    model = _uncalibrated(fitted[name])
    unit = copy.copy(model)
    unit.step_scale_ = np.ones(model.horizon)
    older = copy.copy(model)
    del older.step_scale_
    np.testing.assert_allclose(_change(older, week), _change(unit, week))


@pytest.mark.parametrize(
    "build",
    [
        lambda balance: XGBoostForecaster(n_estimators=5, stride=30, early_stopping_rounds=0, step_balance=balance),
        lambda balance: LSTMForecaster(hidden=4, max_epochs=1, stride=30, history=10, step_balance=balance),
    ],
    ids=NAMES,
)
def test_step_balance_zero_learns_the_changes_as_they_are(train_frame, build):
    model = build(0.0).fit(train_frame)
    np.testing.assert_array_equal(model.step_scale_, np.ones(model.horizon))
    assert model.params()["step_balance"] == 0.0
    with pytest.raises(ValueError, match="step_balance"):
        build(1.5)
