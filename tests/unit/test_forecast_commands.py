"""`powercast backtest` on a user's readings file, `make_forecaster` by name."""

import json

import pytest
from typer.testing import CliRunner

from powercast.cli import app
from powercast.errors import PowercastError
from powercast.models.baselines import SeasonalNaive
from powercast.models.catalog import FORECASTER_NAMES, make_forecaster, parse_model_names
from tests.simulated import meter_readings


@pytest.mark.parametrize("every_s, suffix", [(60, "csv"), (600, "parquet")])
def test_backtest_json_on_coarse_or_minute_readings(tmp_path, every_s, suffix):
    readings = meter_readings(days=1.5, n_machines=2, every_s=every_s, sensors=("power", "temperature"))
    path = tmp_path / f"meters.{suffix}"
    readings.to_csv(path, index=False) if suffix == "csv" else readings.to_parquet(path)
    result = CliRunner().invoke(
        app, ["backtest", "--input", str(path), "--models", "moving_average,seasonal_naive", "--windows", "2", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{") :])
    assert set(report["models"]) == {"persistence", "moving_average", "seasonal_naive"}
    entry = report["models"]["moving_average"]
    assert {"mae", "rmse", "smape", "coverage", "ratio_to_persistence"} <= set(entry["overall"])
    assert [s["step"] for s in entry["steps"]] == list(range(1, 16))
    assert report["models"]["persistence"]["overall"]["ratio_to_persistence"] == pytest.approx(1.0)
    assert report["best"] in {"moving_average", "seasonal_naive"}


def test_backtest_table_and_bad_file(tmp_path):
    path = tmp_path / "m.csv"
    meter_readings(days=1, n_machines=1).to_csv(path, index=False)
    result = CliRunner().invoke(app, ["backtest", "--input", str(path), "--models", "persistence", "--windows", "2"])
    assert result.exit_code == 0, result.output
    assert "ratio vs pers." in result.output and "per horizon step" in result.output
    missing = CliRunner().invoke(app, ["backtest", "--input", str(tmp_path / "nope.csv")])
    assert missing.exit_code != 0 and "not found" in str(missing.exception)


def test_make_forecaster_by_name():
    assert isinstance(make_forecaster("seasonal_naive", season="week"), SeasonalNaive)
    for name in FORECASTER_NAMES:
        assert make_forecaster(name).name == name
    with pytest.raises(PowercastError, match="unknown model 'arima'"):
        make_forecaster("arima")
    with pytest.raises(PowercastError, match="bad parameters"):
        make_forecaster("persistence", depth=3)
    assert parse_model_names(" xgb, lstm ") == ["xgb", "lstm"]
    with pytest.raises(PowercastError, match="choose from"):
        parse_model_names("xgb,prophet")
