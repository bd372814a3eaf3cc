"""Training/serving skew: the inputs the service feeds the booster for a request equal, bit for bit, the inputs
the training path builds for the same machine and issue time from the whole history.

Serving sees only the request (the last 70 minutes of readings before the issue time T); training sees hours
of readings around T and builds every issue with `build_design`. Both must give the same float32 row for each
of the 15 steps. Cases: 10-second meters, irregular and shuffled readings with re-sent duplicates, and a power
meter that reads every 5 minutes (held between its readings) next to 10-second sensors; each through the fleet
path (frames, several machines per call) and the single-machine path (arrays, one machine per request).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from powercast.features.aggregate import minute_frame_from_readings
from powercast.features.spec import FeatureSpec
from powercast.models.design import FUTURE_COLUMNS, build_design
from powercast.models.frame import machine_scales
from powercast.models.xgb import XGBoostForecaster, _future_rows, _with_step
from powercast.scoring.model import ForecasterModel
from tests.simulated import fleet_attributes, meter_readings, minute_frame
from tests.unit.test_serving_machine import machine_readings_of

START = pd.Timestamp("2026-11-12 05:00", tz="UTC")
ISSUE = START + pd.Timedelta(hours=3)  # a shift change at 06:00 and breaks lie inside the history
SENSORS = ("power", "temperature", "vibration", "pressure")


@pytest.fixture(scope="module")
def forecaster() -> XGBoostForecaster:
    train = minute_frame(days=1, n_machines=3, seed=2)
    return XGBoostForecaster(n_estimators=15, stride=10, early_stopping_rounds=5).fit(train)


def _readings(every_s: int, sensors=SENSORS, seed: int = 21, prefix: str = "S-") -> pd.DataFrame:
    readings = meter_readings(
        days=4 / 24, n_machines=2, seed=seed, every_s=every_s, sensors=sensors, start=START.isoformat()
    )
    readings = readings.merge(fleet_attributes(2, seed), on="machine_id", how="left")
    return readings.assign(machine_id=prefix + readings["machine_id"])  # S-: not machines the model was fitted on


def _irregular() -> pd.DataFrame:
    rng = np.random.default_rng(4)
    readings = _readings(10).sample(frac=0.6, random_state=3)
    readings["ts"] = readings["ts"] + pd.to_timedelta(rng.integers(0, 9000, len(readings)), unit="ms")
    return pd.concat([readings, readings.iloc[:40]])  # re-sent readings, rows in no particular order


def _coarse_power() -> pd.DataFrame:
    power = _readings(300, sensors=("power",))
    others = _readings(10, sensors=SENSORS[1:])
    return pd.concat([power, others], ignore_index=True)


CASES = {
    "10-second": lambda: _readings(10),
    "irregular": _irregular,
    "5-minute power meter": _coarse_power,
    "machines the load profile knows": lambda: _readings(10, prefix=""),
}


def _training_inputs(forecaster: XGBoostForecaster, readings: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per machine, the booster inputs of the issue at ISSUE as training builds them (all issues, whole history)."""
    attributes = readings.groupby("machine_id")[["machine_type", "rated_power_w"]].first().reset_index()
    frame = minute_frame_from_readings(readings, machines=attributes)
    scales = {**machine_scales(frame), **forecaster.scales_}  # a fitted machine keeps the scale it was trained with
    design = build_design(frame, forecaster.spec, scales, stride=1, profile=forecaster.profile_)
    out = {}
    for machine in sorted(frame["machine_id"].unique()):
        row = np.flatnonzero((design.index["machine_id"] == machine) & (design.index["issue_ts"] == ISSUE))
        assert len(row) == 1, "the issue must be a training issue of the whole history"
        steps = np.arange(1, forecaster.horizon + 1)
        rows = _with_step(
            design.X.iloc[np.repeat(row, forecaster.horizon)],
            steps,
            _future_rows(design, np.repeat(row, forecaster.horizon), steps),
        )
        out[machine] = rows.reindex(columns=forecaster.feature_names_).to_numpy(np.float32)
    return out


def _served_inputs(
    forecaster: XGBoostForecaster, readings: pd.DataFrame, monkeypatch, machine: str | None = None
) -> tuple[np.ndarray, pd.DataFrame]:
    """The booster inputs of one scoring call on the readings of the 70 minutes before ISSUE (of all machines,
    or of `machine` alone), and its forecast."""
    captured = []
    predict = forecaster.booster_.predict

    def spy(X, **kwargs):
        captured.append(np.array(X, copy=True))
        return predict(X, **kwargs)

    monkeypatch.setattr(forecaster.booster_, "predict", spy)
    request = readings[(readings["ts"] >= ISSUE - pd.Timedelta(minutes=70)) & (readings["ts"] < ISSUE)]
    model = ForecasterModel(forecaster, forecaster.spec.to_dict(), forecaster.spec.min_history, "xgb")
    if machine is None:
        forecast = model.score(request).forecast
    else:  # the single-machine path of a request that holds one machine
        score = model.score_machine(machine_readings_of(request[request["machine_id"] == machine]))
        forecast = pd.DataFrame({"machine_id": machine, "issue_ts": [score.issue_ts]})
    assert len(captured) == 1
    return captured[0], forecast


@pytest.mark.parametrize("one_machine", [False, True], ids=["fleet path", "single-machine path"])
@pytest.mark.parametrize("case", CASES)
def test_served_inputs_equal_the_training_inputs(case, one_machine, forecaster, monkeypatch):
    readings = CASES[case]()
    expected = _training_inputs(forecaster, readings)
    if one_machine:
        expected = dict(sorted(expected.items())[-1:])
        readings = readings[readings["machine_id"].isin(expected)]
    served, forecast = _served_inputs(forecaster, readings, monkeypatch, next(iter(expected)) if one_machine else None)
    machines = sorted(expected)
    assert forecast["issue_ts"].eq(ISSUE).all() and sorted(forecast["machine_id"].unique()) == machines
    np.testing.assert_array_equal(served, np.concatenate([expected[m] for m in machines]))
    lags = [forecaster.feature_names_.index(f"power_lag_{k}") for k in FeatureSpec().lags]
    assert np.isfinite(served[:, lags]).all()  # real history, not an all-missing row that matches trivially
    profile = [forecaster.feature_names_.index(c) for c in FUTURE_COLUMNS]
    known = set(machines) <= set(forecaster.profile_.sums)
    assert np.isfinite(served[:, profile]).all() == known  # the profile's known future, or missing for a new machine
