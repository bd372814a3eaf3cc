"""The entry functions of `powercast.jobs` against the real PostgreSQL: what the CLI, the runtime and the DAGs
call, with small JSON results."""

from __future__ import annotations

import json
import uuid

import pandas as pd
import pytest
from psycopg2.extras import execute_values

from powercast.config import Settings
from powercast.db.connection import connect
from powercast.jobs.features import snapshot_features
from powercast.jobs.results import as_dict
from powercast.jobs.serving import score_fleet_once
from powercast.jobs.training import train_and_register
from powercast.stack.process import free_port
from tests.simulated import meter_readings

# training reads every machine's features, so this module owns the tables while it runs
CLEANUP = "DELETE FROM features_1m; DELETE FROM feature_snapshots; DELETE FROM readings"


@pytest.fixture
def settings(postgres):
    """The session's PostgreSQL; an MLflow URI where nothing listens."""
    return Settings(
        _env_file=None, database_url=postgres.app_database_url, mlflow_tracking_uri=f"http://127.0.0.1:{free_port()}"
    )


@pytest.fixture
def seeded(postgres):
    recent = (pd.Timestamp.now(tz="UTC") - pd.Timedelta(days=3)).normalize()
    readings = meter_readings(days=1.5, n_machines=2, every_s=60, start=str(recent.date()))
    conn = connect(postgres.app_database_url)
    with conn.cursor() as cur:
        cur.execute(CLEANUP)
        execute_values(
            cur,
            "INSERT INTO readings (machine_id, sensor, ts, value, unit, event_id) VALUES %s",
            [
                (r.machine_id, r.sensor, r.ts.to_pydatetime(), float(r.value), "W", str(uuid.uuid4()))
                for r in readings.itertuples(index=False)
            ],
        )
    conn.commit()
    yield readings
    with conn.cursor() as cur:
        cur.execute(CLEANUP)
    conn.commit()
    conn.close()


def test_snapshot_then_train_return_small_json_results(settings, seeded):
    first = snapshot_features(settings)
    assert first.row_count == 2 * 36 * 60 and sorted(first.machines) == ["M-001", "M-002"]
    again = snapshot_features(settings)
    assert again.snapshot_id > first.snapshot_id and again.row_count == 0

    run = train_and_register(settings, models=["moving_average"], windows=2, register=False)
    assert run.run_id is None and run.model_version is None
    assert set(run.metrics) == {"persistence", "moving_average"} and run.best == "moving_average"
    assert run.metrics["persistence"]["ratio_to_persistence"] == pytest.approx(1.0)

    summary = as_dict(run)
    assert "report" not in summary and summary["best"] == "moving_average"
    assert len(json.dumps(summary)) < 2000  # small enough for XCom
    assert json.loads(json.dumps(as_dict(first)))["row_count"] == first.row_count


def test_scoring_without_a_registry_reports_why(settings, seeded):
    run = score_fleet_once(settings)
    assert run.forecast_rows == 0 and run.model_version is None
    assert "registry cannot be reached" in run.error
