"""Model behaviour: forecasts respond to load the way a machine does, and follow the break schedule."""

import cloudpickle
import numpy as np
import pandas as pd
import pytest

from tests.model.conftest import FRIDAY

MODELS = ["xgb", "lstm"]
POWER_COLUMNS = ["power", "power_min", "power_max", "power_last", "power_std"]


def break_power(frame) -> pd.Series:
    """Each machine's usual power in the lunch break (12:00-12:30, the simulator moves it by up to 3 minutes):
    the median of its minutes 12:10-12:20 on the days in `frame`."""
    minute = frame["ts"].dt.hour * 60 + frame["ts"].dt.minute
    in_break = frame[(minute >= 12 * 60 + 10) & (minute < 12 * 60 + 20)]
    return in_break.groupby("machine_id")["power"].median()


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
def test_a_machine_in_its_scheduled_break_forecasts_low_power(fitted, week, train_frame, name):
    rated = week.groupby("machine_id")["rated_power_w"].first()
    in_break = mean_forecast(fitted[name], week, FRIDAY + pd.Timedelta(hours=12, minutes=8)) / rated
    producing = mean_forecast(fitted[name], week, FRIDAY + pd.Timedelta(hours=10, minutes=40)) / rated
    usual = break_power(train_frame) / rated  # machines idle at 15-40 % of rated power, by kind
    assert (in_break < usual + 0.1).all(), (in_break.to_dict(), usual.to_dict())
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
def test_forecasts_anticipate_a_scheduled_break_before_it_shows(fitted, week, train_frame, name):
    # The lunch break starts at 12:00 +- 3 minutes every weekday, after a 3-minute ramp down: at 11:52 nothing
    # of it shows yet, and from 12:03 on (steps 12-15) every machine is in it.
    issue = FRIDAY + pd.Timedelta(hours=11, minutes=52)
    forecast = fitted[name].predict(week[week["ts"] < issue], issue_times=[issue])
    by_step = forecast.pivot(index="machine_id", columns="step", values="yhat")
    before, during = by_step[[1, 2]].mean(axis=1), by_step[list(range(12, 16))].mean(axis=1)
    usual = break_power(train_frame)
    # Every machine's forecast goes a quarter of the way down to its break power or more, the fleet's half or
    # more (an air compressor keeps running at 36 % of rated power in a break: its drop is the smallest).
    drop, way = before - during, before - usual
    table = pd.DataFrame({"before": before, "during": during, "break": usual}).to_dict()
    assert (drop > 0.25 * way).all(), table
    assert drop.sum() > 0.5 * way.sum(), table
