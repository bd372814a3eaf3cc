"""Model behaviour: forecasts respond to load the way a machine does, and follow the break schedule."""

import cloudpickle
import numpy as np
import pandas as pd
import pytest

from tests.model.conftest import FRIDAY

MODELS = ["xgb", "lstm"]
POWER_COLUMNS = ["power", "power_min", "power_max", "power_last", "power_std"]


def mean_forecast(model, frame, issue):
    forecast = model.predict(frame[frame["ts"] < issue], issue_times=[issue])
    return forecast.groupby("machine_id")["yhat"].mean()


@pytest.mark.parametrize("name", MODELS)
def test_more_load_gives_more_forecast_power(fitted, week, name):
    issue = FRIDAY + pd.Timedelta(hours=10, minutes=40)
    history = week[week["ts"] < issue]
    heavier = history.copy()
    recent = heavier["ts"] >= issue - pd.Timedelta(minutes=60)
    heavier.loc[recent, POWER_COLUMNS] *= 1.3
    base, more = mean_forecast(fitted[name], history, issue), mean_forecast(fitted[name], heavier, issue)
    assert (more > base).all(), f"{name}: {base.to_dict()} -> {more.to_dict()}"


@pytest.mark.parametrize("name", MODELS)
def test_a_machine_in_its_scheduled_break_forecasts_low_power(fitted, week, name):
    rated = week.groupby("machine_id")["rated_power_w"].first()
    in_break = mean_forecast(fitted[name], week, FRIDAY + pd.Timedelta(hours=12, minutes=8)) / rated
    producing = mean_forecast(fitted[name], week, FRIDAY + pd.Timedelta(hours=10, minutes=40)) / rated
    assert (in_break < 0.3).all(), in_break.to_dict()
    assert in_break.mean() < 0.5 * producing.mean(), (in_break.to_dict(), producing.to_dict())


@pytest.mark.parametrize("name", MODELS)
def test_forecasts_are_complete_ordered_and_picklable(fitted, week, name):
    issue = FRIDAY + pd.Timedelta(hours=11)
    forecast = fitted[name].predict(week[week["ts"] < issue])
    assert len(forecast) == 4 * 15 and forecast[["yhat", "yhat_lo", "yhat_hi"]].notna().all().all()
    assert (forecast["yhat_lo"] <= forecast["yhat"]).all() and (forecast["yhat"] <= forecast["yhat_hi"]).all()
    assert (forecast["issue_ts"] == issue).all()
    clone = cloudpickle.loads(cloudpickle.dumps(fitted[name]))
    again = clone.predict(week[week["ts"] < issue])
    np.testing.assert_allclose(again["yhat"], forecast["yhat"], rtol=1e-6)


@pytest.mark.parametrize("name", MODELS)
def test_a_sensor_missing_at_scoring_time_still_gives_forecasts(fitted, week, name):
    issue = FRIDAY + pd.Timedelta(hours=11)
    power_only = week.loc[week["ts"] < issue, ["machine_id", "ts", *POWER_COLUMNS, "rated_power_w", "machine_type"]]
    forecast = fitted[name].predict(power_only)
    assert len(forecast) == 4 * 15 and forecast["yhat"].notna().all()


@pytest.mark.parametrize("name", MODELS)
def test_a_machine_new_to_the_model_gets_forecasts_from_its_readings(fitted, week, name):
    issue = FRIDAY + pd.Timedelta(hours=10, minutes=40)
    known = week[week["ts"] < issue]
    renamed = known.assign(machine_id="NEW-" + known["machine_id"])  # no learned profile, no fitted scale
    forecast = fitted[name].predict(renamed).set_index("machine_id")
    assert forecast[["yhat", "yhat_lo", "yhat_hi"]].notna().all().all()
    last = renamed.groupby("machine_id")["power"].last()
    first_step = forecast.loc[forecast["step"] == 1, "yhat"]
    assert (abs(first_step - last[first_step.index]) < 0.25 * last[first_step.index]).all(), first_step.to_dict()


def test_lstm_training_is_seeded(train_frame, fitted, week):
    from powercast.models.lstm import LSTMForecaster

    again = LSTMForecaster(hidden=16, max_epochs=4, patience=2, stride=4, history=20, seed=1).fit(train_frame)
    issue = FRIDAY + pd.Timedelta(hours=11)
    history = week[week["ts"] < issue]
    np.testing.assert_allclose(again.predict(history)["yhat"], fitted["lstm"].predict(history)["yhat"], rtol=1e-5)


@pytest.mark.parametrize("name", MODELS)
def test_forecasts_anticipate_a_scheduled_break_before_it_shows(fitted, week, name):
    issue = FRIDAY + pd.Timedelta(hours=11, minutes=55)  # the lunch break starts at 12:00 every weekday
    forecast = fitted[name].predict(week[week["ts"] < issue], issue_times=[issue])
    by_step = forecast.pivot(index="machine_id", columns="step", values="yhat")
    before, during = by_step[[1, 2, 3]].mean(axis=1), by_step[list(range(8, 16))].mean(axis=1)
    assert (during < 0.6 * before).all(), pd.DataFrame({"before": before, "during": during}).to_dict()
