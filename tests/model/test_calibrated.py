"""A learned model calibrated on its cross-validation: weight 0 is persistence, weight 1 the model, and the band
moves with the point forecast."""

import copy

import numpy as np
import pytest

from powercast.models.calibration import StepCalibration, identity
from powercast.models.frame import grids, last_observed

NAMES = ["xgb", "lstm"]


def _issue_times(week):
    return list(week["ts"].max().floor("D") + np.arange(1, 6) * np.timedelta64(90, "m"))


@pytest.mark.parametrize("name", NAMES)
def test_weight_zero_forecasts_the_last_observed_value(fitted, week, name):
    horizon = fitted[name].horizon
    model = copy.copy(fitted[name]).set_calibration(
        StepCalibration(np.zeros(horizon), np.zeros(horizon), np.zeros(horizon))
    )
    forecast = model.predict(week, issue_times=_issue_times(week))
    by_machine = grids(week)
    expected = [
        last_observed(by_machine[m], by_machine[m].pos(t)) for m, t in zip(forecast["machine_id"], forecast["issue_ts"])
    ]
    np.testing.assert_allclose(forecast["yhat"], expected)
    assert (forecast["yhat_lo"] <= forecast["yhat"]).all() and (forecast["yhat"] <= forecast["yhat_hi"]).all()


@pytest.mark.parametrize("name", NAMES)
def test_identity_calibration_is_the_model_alone_and_offsets_widen_the_band(fitted, week, name):
    times = _issue_times(week)
    alone = fitted[name].predict(week, issue_times=times)
    horizon = fitted[name].horizon
    same = copy.copy(fitted[name]).set_calibration(identity(horizon)).predict(week, issue_times=times)
    np.testing.assert_allclose(same[["yhat", "yhat_lo", "yhat_hi"]], alone[["yhat", "yhat_lo", "yhat_hi"]])
    wider = StepCalibration(np.ones(horizon), np.full(horizon, 0.05), np.full(horizon, 0.05))
    widened = copy.copy(fitted[name]).set_calibration(wider).predict(week, issue_times=times)
    np.testing.assert_allclose(widened["yhat"], alone["yhat"])
    assert (widened["yhat_hi"] - widened["yhat_lo"] > alone["yhat_hi"] - alone["yhat_lo"]).all()
