"""The single-machine scoring path (arrays, no frames) equals the general path (frames) it stands in for.

`machine_minutes` must build the very minute frame `minute_frame_from_readings` builds, and
`ForecasterModel.score_machine` must give the forecast, the refusals and the messages of `ForecasterModel.score`,
bit for bit, on regular, irregular and shuffled, re-sent, gappy, single-sensor, oddly spelt and coarse-meter
readings, with attributes sent, partly sent, known from training or unknown.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from powercast.errors import InsufficientHistory
from powercast.features.aggregate import ffill, minute_frame_from_readings
from powercast.features.machine import MachineReadings, machine_minutes
from powercast.models.calibration import StepCalibration
from powercast.models.xgb import XGBoostForecaster
from powercast.scoring.model import BadReadings, ForecasterModel
from tests.mlops.fakes import LastValue
from tests.simulated import fleet_attributes, meter_readings, minute_frame

START = pd.Timestamp("2026-11-12 05:50", tz="UTC")
SENSORS = ("power", "temperature", "vibration", "pressure")


def _readings(
    every_s: int = 10, sensors=SENSORS, minutes: int = 75, seed: int = 21, machine: str = "M-001"
) -> pd.DataFrame:
    readings = meter_readings(
        days=minutes / 1440, n_machines=1, seed=seed, every_s=every_s, sensors=sensors, start=START.isoformat()
    )
    attributes = fleet_attributes(1, seed).iloc[0]
    return readings.assign(
        machine_id=machine, machine_type=attributes["machine_type"], rated_power_w=attributes["rated_power_w"]
    )


def _irregular() -> pd.DataFrame:
    rng = np.random.default_rng(4)
    readings = _readings().sample(frac=0.7, random_state=3)
    readings["ts"] = readings["ts"] + pd.to_timedelta(rng.integers(0, 9000, len(readings)), unit="ms")
    resent = readings.iloc[:60].assign(value=readings["value"].iloc[:60] + 1.0)  # a repeat keeps the first value
    return pd.concat([readings, resent])


def _gappy() -> pd.DataFrame:
    readings = _readings()
    minute = (readings["ts"] - START) // pd.Timedelta(minutes=1)
    return readings[~minute.between(20, 27) & ~((readings["sensor"] == "vibration") & minute.between(60, 64))]


def _odd_names() -> pd.DataFrame:
    readings = _readings(sensors=("power", "temperature"))
    renamed = readings["sensor"].map({"power": "power", "temperature": " Temperature"})
    extra = readings[readings["sensor"] == "power"].assign(sensor="humidity")
    return pd.concat([readings.assign(sensor=renamed), extra])


def _coarse(every_s: int) -> pd.DataFrame:
    return pd.concat([_readings(every_s, sensors=("power",), minutes=90), _readings(10, SENSORS[1:], 90)])


def _non_finite() -> pd.DataFrame:
    readings = _readings()
    readings.loc[readings.index[::7], "value"] = np.nan
    readings.loc[readings.index[3::11], "value"] = np.inf
    return readings


CASES = {
    "10-second": _readings,
    "irregular, shuffled, re-sent": _irregular,
    "gaps": _gappy,
    "power only": lambda: _readings(sensors=("power",)),
    "odd and unknown sensor names": _odd_names,
    "5-minute power meter": lambda: _coarse(300),
    "90-second power meter": lambda: _coarse(90),
    "non-finite values": _non_finite,
}
ATTRIBUTES = {
    "sent": lambda r: r,
    "not sent": lambda r: r.drop(columns=["machine_type", "rated_power_w"]),
    "partly sent": lambda r: r.assign(
        machine_type=np.where(np.arange(len(r)) % 3 == 0, r["machine_type"], None),
        rated_power_w=np.where(np.arange(len(r)) < 5, np.nan, r["rated_power_w"]),
    ),
}


def machine_readings_of(readings: pd.DataFrame) -> MachineReadings:
    """The arrays the service takes from a one-machine request."""
    ts = pd.to_datetime(readings["ts"], utc=True).astype("datetime64[ns, UTC]")
    attributes = {
        c: readings[c].to_numpy(object) if c in readings and readings[c].notna().any() else None
        for c in ("machine_type", "rated_power_w")
    }
    return MachineReadings(
        str(readings["machine_id"].iloc[0]),
        readings["sensor"].to_numpy(object),
        ts.array.asi8,
        readings["value"].to_numpy(float),
        **attributes,
    )


@pytest.fixture(scope="module")
def xgb() -> XGBoostForecaster:
    train = minute_frame(days=1, n_machines=3, seed=2)
    return XGBoostForecaster(n_estimators=15, stride=10, early_stopping_rounds=5).fit(train)


def _models(xgb: XGBoostForecaster) -> dict[str, ForecasterModel]:
    known = pd.DataFrame(
        {
            "machine_id": ["M-001", "M-009"],
            "machine_type": ["hydraulic_press", "air_compressor"],
            "rated_power_w": [4000.0, 9000.0],
        }
    )
    last_value = LastValue().fit(minute_frame(days=0.2, n_machines=2, seed=1))
    spec = xgb.spec.to_dict()
    calibrated = copy.copy(xgb).set_calibration(
        StepCalibration(np.linspace(0, 1, xgb.horizon), np.full(xgb.horizon, 0.02), np.full(xgb.horizon, -0.01))
    )
    return {
        "xgb": ForecasterModel(xgb, spec, xgb.spec.min_history, "xgb"),
        "xgb, calibrated on its cross-validation": ForecasterModel(calibrated, spec, xgb.spec.min_history, "xgb"),
        "xgb, machines known from training": ForecasterModel(xgb, spec, xgb.spec.min_history, "xgb", known),
        "a forecaster without predict_machine": ForecasterModel(last_value, spec, 60, "last_value", known),
    }


@pytest.mark.parametrize("attributes", ATTRIBUTES)
@pytest.mark.parametrize("case", CASES)
def test_machine_minutes_equal_the_minute_frame(case, attributes):
    readings = ATTRIBUTES[attributes](CASES[case]())
    expected = minute_frame_from_readings(readings[["machine_id", "sensor", "ts", "value"]])
    minutes = machine_minutes(machine_readings_of(readings))
    pd.testing.assert_frame_equal(minutes.to_frame(attributes=()), expected, check_exact=True)


@pytest.mark.parametrize("attributes", ATTRIBUTES)
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("machine", ["M-001", "NEW-1"])  # fitted on (its scale and load profile), or new
def test_score_machine_equals_score(case, attributes, machine, xgb):
    readings = ATTRIBUTES[attributes](CASES[case]()).assign(machine_id=machine)
    for name, model in _models(xgb).items():
        expected = model.score(readings).forecast.sort_values("step")
        got = model.score_machine(machine_readings_of(readings))
        assert got.machine_id == machine and (expected["issue_ts"] == got.issue_ts).all(), name
        for column in ("yhat", "yhat_lo", "yhat_hi"):
            np.testing.assert_array_equal(getattr(got, column), expected[column].to_numpy(float), err_msg=name)


def _refusals(model, readings: pd.DataFrame, error: type[Exception]) -> tuple[Exception, Exception]:
    """The `error` that `score` raises for the readings, then the one `score_machine` raises."""
    with pytest.raises(error) as general:
        model.score(readings)
    with pytest.raises(error) as machine:
        model.score_machine(machine_readings_of(readings))
    return general.value, machine.value


@pytest.mark.parametrize(
    "cut",
    [
        lambda r: r[r["ts"] >= r["ts"].max() - pd.Timedelta(minutes=30)],  # too short
        lambda r: r[~((r["sensor"] == "power") & (r["ts"] > r["ts"].max() - pd.Timedelta(minutes=20)))],  # power gap
    ],
)
def test_short_history_is_refused_with_the_same_message(cut, xgb):
    general, machine = _refusals(_models(xgb)["xgb"], cut(_readings()), InsufficientHistory)
    assert machine.shortfalls == general.shortfalls


@pytest.mark.parametrize(
    "change",
    [
        lambda r: r[r["sensor"] != "power"],
        lambda r: r.assign(sensor=r["sensor"].str.upper()),
        lambda r: r.assign(value=np.where(r["sensor"] == "power", np.nan, r["value"])),
    ],
)
def test_readings_without_power_are_refused_alike(change, xgb):
    general, machine = _refusals(_models(xgb)["xgb"], change(_readings()), BadReadings)
    assert str(machine) == str(general)


@pytest.mark.parametrize("limit", [1, 2, 5])
def test_ffill_is_pandas_ffill_with_a_limit(limit):
    values = np.array([np.nan, 1.0, np.nan, np.nan, np.nan, 2.0, np.nan, 3.0, np.nan, np.nan, np.nan, np.nan])
    np.testing.assert_array_equal(ffill(values, limit), pd.Series(values).ffill(limit=limit).to_numpy())


@pytest.mark.parametrize("shape", ["readings", "columns"])
def test_service_answers_one_machine_as_the_fleet_path_does(shape, xgb):
    from fastapi.testclient import TestClient

    from powercast.serving.app import create_app
    from powercast.serving.champion import ChampionHolder

    model = _models(xgb)["xgb, machines known from training"]
    readings = pd.concat([_readings(), _irregular().assign(machine_id="NEW-1")])
    readings = readings.assign(ts=readings["ts"].map(pd.Timestamp.isoformat))
    rows = readings.to_dict(orient="records")

    def body(rows: list[dict]) -> dict:
        return {"readings": rows} if shape == "readings" else {"columns": {k: [r[k] for r in rows] for k in rows[0]}}

    with TestClient(
        create_app(ChampionHolder(lambda: "1", lambda version: model), poll_s=None), base_url="http://localhost"
    ) as client:
        both = client.post("/forecast", json=body(rows))
        alone = [
            client.post("/forecast", json=body([r for r in rows if r["machine_id"] == m])) for m in ("M-001", "NEW-1")
        ]
    assert both.status_code == 200 and all(r.status_code == 200 for r in alone), both.text
    assert [r.json()["forecasts"][0] for r in alone] == both.json()["forecasts"]
