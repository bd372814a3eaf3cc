"""`powercast train` end to end: readings -> features_1m -> cross-validated models -> table."""

from __future__ import annotations

import json
import uuid

import pandas as pd
from psycopg2.extras import execute_values
from typer.testing import CliRunner

from powercast.cli import app
from powercast.db.connection import connect
from tests.simulated import meter_readings

# train reads every machine's features, so this test owns the tables while it runs (other tests leave recent rows)
CLEANUP = "DELETE FROM features_1m; DELETE FROM feature_snapshots; DELETE FROM readings"


def test_train_reads_features_and_prints_the_comparison(postgres):
    env = {"DATABASE_URL": postgres.app_database_url}
    recent = (pd.Timestamp.now(tz="UTC") - pd.Timedelta(days=3)).normalize()  # inside train's default --days
    readings = meter_readings(days=1.5, n_machines=2, every_s=60, start=str(recent.date()))
    conn = connect(postgres.app_database_url)
    try:
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
        assert CliRunner().invoke(app, ["features", "--full"], env=env).exit_code == 0

        result = CliRunner().invoke(
            app,
            ["train", "--models", "moving_average,seasonal_naive", "--windows", "2", "--json", "--no-register"],
            env=env,
        )
        assert result.exit_code == 0, result.output
        report = json.loads(result.output[result.output.index("{") :])
        assert set(report["models"]) == {"persistence", "moving_average", "seasonal_naive"}
        assert report["models"]["moving_average"]["overall"]["n"] > 100
        assert report["best"] in {"moving_average", "seasonal_naive"}

        table = CliRunner().invoke(
            app, ["train", "--models", "moving_average", "--windows", "2", "--no-register"], env=env
        )
        assert table.exit_code == 0, table.output
        assert "moving_average" in table.output and "best (lowest MAE among the requested models)" in table.output
    finally:
        with conn.cursor() as cur:
            cur.execute(CLEANUP)
        conn.commit()
        conn.close()
