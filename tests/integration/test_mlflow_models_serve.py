"""The registered pyfunc also serves under MLflow's own `mlflow models serve --env-manager local`."""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from powercast import registry
from powercast.features.spec import FeatureSpec
from powercast.scoring.model import minute_frame
from powercast.stack import process
from powercast.training.tracking import log_forecaster_model
from tests.mlops.env import restored_env
from tests.mlops.fakes import LastValue, long_readings

pytestmark = pytest.mark.usefixtures("isolated_mlflow_env")

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def registered_version(mlflow):
    import mlflow as mlflow_lib

    with restored_env("MLFLOW_TRACKING_URI"):  # set_tracking_uri exports it; do not leak it to later tests
        registry.connect(mlflow)
        mlflow_lib.set_experiment("powercast-tests")
        spec = FeatureSpec(history=30, lags=(1, 5, 15, 30), windows=(5, 15), deltas=(1, 5))
        readings = long_readings(machines=2, minutes=120)
        forecaster = LastValue().fit(minute_frame(readings))
        with mlflow_lib.start_run(run_name="models-serve"):
            example = readings.head(300).assign(ts=lambda r: r["ts"].map(pd.Timestamp.isoformat))
            info = log_forecaster_model(forecaster, "last_value", spec, example, register=True)
    return str(info.registered_model_version)


def _post(url: str, payload: dict, timeout: float = 30):
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def test_mlflow_models_serve_answers(mlflow, registered_version, tmp_path):
    port = process.free_port()
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": mlflow.tracking_uri,
        "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)]),
        # MLflow starts `uvicorn` by name: the environment's scripts must be on PATH, as in an activated venv
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    }
    mlflow_cli = str(Path(sys.executable).with_name("mlflow"))
    log = tmp_path / "serve.log"
    proc = process.start_detached(
        [
            mlflow_cli,
            "models",
            "serve",
            "-m",
            f"models:/powercast-forecaster/{registered_version}",
            "--env-manager",
            "local",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        log_file=log,
        env=env,
    )
    try:
        process.wait_until(
            lambda: _ping(port), timeout=90, what="mlflow models serve", alive=lambda: proc.poll() is None, log_file=log
        )
        readings = long_readings(machines=1, minutes=40)
        readings["ts"] = readings["ts"].map(pd.Timestamp.isoformat)
        payload = {"dataframe_split": readings.to_dict(orient="split")}
        payload["dataframe_split"].pop("index", None)
        status, body = _post(f"http://127.0.0.1:{port}/invocations", payload)
        assert status == 200, body
        predictions = pd.DataFrame(body["predictions"])
        assert len(predictions) == 15 and set(predictions["machine_id"]) == {"M-001"}
        assert (predictions["yhat_lo"] <= predictions["yhat_hi"]).all()
        last_power = readings[readings["sensor"] == "power"]["value"].iloc[-6:].mean()
        assert predictions["yhat"].iloc[0] == pytest.approx(last_power, rel=0.05)
    finally:
        process.stop_group(proc.pid, timeout=10)


def _ping(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False
