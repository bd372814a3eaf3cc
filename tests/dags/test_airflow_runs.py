"""The local Airflow for real, on the session's PostgreSQL and MLflow: the runtime starts, its REST API answers
with a token from the printed login and runs a DAG triggered through it, every DAG runs end to end with
`airflow dags test` on a small simulated fleet, and stop leaves no process behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import psutil
import pytest

from powercast.db.connection import connect
from powercast.jobs.serving import score_fleet_once
from powercast.names import REGISTERED_MODEL
from powercast.stack.airflow import ADMIN, Airflow, metadata_url
from powercast.stack.process import free_port
from tests.mlops.data import insert_readings
from tests.mlops.fakes import long_readings

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("isolated_mlflow_env")]

TABLES = ("forecast_quality", "forecasts", "drift_reports", "features_1m", "feature_snapshots", "readings")
MACHINES = 3


@pytest.fixture(scope="module")
def airflow(mlflow):
    runtime = Airflow(mlflow.model_copy(update={"airflow_port": free_port()}), paused=True)
    runtime.start()
    yield runtime
    runtime.stop()


@pytest.fixture(scope="module")
def history(postgres, mlflow):
    """2.5 days of a small fleet up to now (the last minutes too: promotion judges the latest hours).

    The fleet is the test fake's (a level, a 31-minute wave and noise), not the simulator's: the same at every
    hour, so whether XGBoost beats persistence on the latest hours does not hinge on when the test runs. Trained
    on 2.5 days of simulated shift work, it rightly lost to persistence on a Saturday morning (4572 vs 1717)."""
    conn = connect(postgres.app_database_url)
    _clean(conn)
    end = pd.Timestamp.now(tz="UTC").floor("min")
    readings = long_readings(MACHINES, minutes=int(2.5 * 1440), end=str(end.tz_localize(None)), seed=21)
    insert_readings(conn, readings)
    conn.commit()
    yield end
    _clean(conn)
    with conn.cursor() as cur:
        cur.execute("DELETE FROM model_promotions WHERE triggered_by LIKE 'airflow:%%'")
    conn.commit()
    conn.close()
    from powercast import registry

    registry.connect(mlflow).delete_registered_model(REGISTERED_MODEL)  # later tests start from an empty registry


def _clean(conn) -> None:
    with conn.cursor() as cur:
        for table in TABLES:
            cur.execute(f"DELETE FROM {table}")
    conn.commit()


def _api(airflow: Airflow, method: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
    request = urllib.request.Request(
        f"{airflow.url}{path}",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"{}")


def _dags_test(airflow: Airflow, dag_id: str, conf: dict | None = None, **env) -> str:
    """Run one DAG in-process with `airflow dags test`; returns the state of the run it recorded."""
    command = [str(Path(sys.executable).with_name("airflow")), "dags", "test", dag_id]
    if conf:
        command += ["--conf", json.dumps(conf)]
    result = subprocess.run(
        command, env={**os.environ, **airflow.environment(), **env}, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return _last_run_state(airflow, dag_id)


def _last_run_state(airflow: Airflow, dag_id: str) -> str:
    conn = connect(metadata_url(airflow.settings).replace("postgresql+psycopg2://", "postgresql://"))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT state FROM dag_run WHERE dag_id = %s ORDER BY id DESC LIMIT 1", (dag_id,))
            return cur.fetchone()[0]
    finally:
        conn.close()


def _row(postgres, sql: str) -> tuple:
    conn = connect(postgres.app_database_url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchone()
    finally:
        conn.close()


def _scalar(postgres, sql: str):
    return _row(postgres, sql)[0]


def test_a_dag_triggered_through_the_rest_api_succeeds(airflow):
    password = airflow.admin_password()
    assert password and password != "admin"  # generated, not a fixed one
    token = _api(airflow, "POST", "/auth/token", {"username": ADMIN, "password": password})["access_token"]
    _api(airflow, "PATCH", "/api/v2/dags/forecast_quality", {"is_paused": False}, token)
    run = _api(airflow, "POST", "/api/v2/dags/forecast_quality/dagRuns", {"logical_date": None}, token)
    deadline, state = time.monotonic() + 240, run["state"]
    while state not in ("success", "failed") and time.monotonic() < deadline:
        time.sleep(3)
        state = _api(airflow, "GET", f"/api/v2/dags/forecast_quality/dagRuns/{run['dag_run_id']}", token=token)["state"]
    assert state == "success"


def test_every_dag_runs_end_to_end(airflow, postgres, mlflow, history):
    assert _dags_test(airflow, "feature_snapshot") == "success"
    assert _scalar(postgres, "SELECT count(*) FROM features_1m") > 3 * 2 * 1440

    conf = {"models": ["xgb", "moving_average"], "days": 3, "windows": 2}
    assert _dags_test(airflow, "train_models", conf) == "success"
    from powercast import registry

    challenger = registry.version_by_alias(registry.connect(mlflow), "challenger")
    assert challenger is not None and challenger.tags["model_name"] == "xgb"

    assert _dags_test(airflow, "promote_model") == "success"
    outcome, reason = _row(postgres, "SELECT outcome, reason FROM model_promotions ORDER BY id DESC LIMIT 1")
    assert outcome == "promoted", reason

    issued = score_fleet_once(mlflow, (history - pd.Timedelta(minutes=30)).to_pydatetime())
    assert issued.error is None and issued.forecast_rows == MACHINES * 15
    assert _dags_test(airflow, "forecast_quality") == "success"
    assert _scalar(postgres, "SELECT count(*) FROM forecast_quality") == MACHINES * 15

    # any matured error asks for training here, so the trigger path runs whatever the weekday
    assert _dags_test(airflow, "drift_monitor", POWERCAST_DRIFT_ERROR_RATIO="0") == "success"
    decision, triggered = _row(postgres, "SELECT decision, triggered_run FROM drift_reports ORDER BY id DESC LIMIT 1")
    assert decision == "retrain" and triggered
    assert _last_run_state(airflow, "train_models") == "queued"  # the run the report triggered (the DAG is paused)


def test_stop_leaves_no_airflow_process(airflow):
    home = str(airflow.paths.home)
    airflow.stop()
    time.sleep(1)
    left = [p.info["pid"] for p in psutil.process_iter(["pid", "environ"]) if _runs_from(p, home)]
    assert left == []
    assert not airflow.answers()


def _runs_from(proc, home: str) -> bool:
    try:
        return (proc.info.get("environ") or {}).get("AIRFLOW_HOME") == home
    except (psutil.Error, AttributeError):
        return False
