"""`jobs.monitoring.drift_report` on the real PostgreSQL and MLflow: the simulator's fleet for six days, then a
day that is either more of the same (no drift) or has fast bearing wear on half the machines (drift, retrain).
A fixed clock (a Thursday) keeps the windows the same whatever the day the suite runs."""

from __future__ import annotations

import dataclasses
import io
import uuid

import pandas as pd
import pytest

from powercast.db.connection import connect
from powercast.jobs.features import snapshot_features
from powercast.jobs.monitoring import drift_report
from powercast.monitoring import reports
from powercast.simulator.fleet import build_fleet
from powercast.simulator.history import long_readings

pytestmark = pytest.mark.usefixtures("isolated_mlflow_env")

SEED = 11
END = pd.Timestamp("2026-11-26T00:00Z")
REFERENCE = (END - pd.Timedelta(days=6), END - pd.Timedelta(days=1))
FLEET = build_fleet(6, seed=SEED)
CLEANUP = "DELETE FROM features_1m; DELETE FROM feature_snapshots; DELETE FROM readings; DELETE FROM drift_reports"
UNITS = {"power": "W", "temperature": "°C", "vibration": "m/s²", "pressure": "bar"}


def _insert(conn, machines, start, end) -> None:
    readings = long_readings(machines, start, end, seed=SEED)
    readings["unit"] = readings["sensor"].map(UNITS)
    readings["event_id"] = [uuid.uuid4() for _ in range(len(readings))]
    buffer = io.StringIO()
    readings[["machine_id", "sensor", "ts", "value", "unit", "event_id"]].to_csv(buffer, index=False, header=False)
    buffer.seek(0)
    with conn.cursor() as cur:
        cur.execute(
            "DELETE FROM readings WHERE ts >= %s AND ts < %s AND machine_id = ANY(%s)",
            (start, end, [m.machine_id for m in machines]),
        )
        cur.copy_expert("COPY readings (machine_id, sensor, ts, value, unit, event_id) FROM STDIN WITH CSV", buffer)
    conn.commit()


@pytest.fixture(scope="module")
def fleet_history(postgres, mlflow):
    conn = connect(postgres.app_database_url)
    with conn.cursor() as cur:
        cur.execute(CLEANUP)
    conn.commit()
    _insert(conn, FLEET, REFERENCE[0], END)
    snapshot_features(mlflow, full=True)
    yield conn
    with conn.cursor() as cur:
        cur.execute(CLEANUP)
    conn.commit()
    conn.close()


def test_the_fleet_running_on_is_no_reason_to_retrain(mlflow, fleet_history):
    found = drift_report(mlflow, now=END.to_pydatetime(), reference=REFERENCE)
    assert found.decision == "ok", found.reason
    assert found.drifted_share == 0 and found.model_version is None
    row = reports.latest(fleet_history)
    assert row["id"] == found.report_id and row["decision"] == "ok" and row["current_rows"] > 1000
    assert found.report_uri and found.report_uri.endswith("drift_report.html")


def test_fast_bearing_wear_is_drift_and_asks_for_training(mlflow, fleet_history):
    worn = [dataclasses.replace(m, wear_per_day=m.wear_per_day * 200) for m in FLEET if m.index % 2]
    _insert(fleet_history, worn, REFERENCE[1], END)
    snapshot_features(mlflow, since=REFERENCE[1].to_pydatetime(), until=END.to_pydatetime(), full=True)
    found = drift_report(mlflow, now=END.to_pydatetime(), reference=REFERENCE)
    assert found.decision == "retrain" and "vibration" in found.reason
    row = reports.latest(fleet_history)
    assert row["decision"] == "retrain" and row["top_features"][0]["feature"].startswith("vibration")
    assert row["top_features"][0]["drifted"] is True


def test_an_empty_window_is_reported_not_raised(mlflow, fleet_history):
    found = drift_report(mlflow, now=(END + pd.Timedelta(days=30)).to_pydatetime(), reference=REFERENCE)
    assert found.decision == "insufficient_data" and found.drifted_share is None
    assert any("too few rows" in note for note in found.notes)
    assert reports.latest(fleet_history)["id"] == found.report_id
