"""The local MLflow server runs as a real process with its store in PostgreSQL; the CLI reports it."""

import urllib.request

import pytest
from typer.testing import CliRunner

from powercast.cli import app
from powercast.registry import server_answers
from powercast.stack.mlflow import MlflowServer, backend_store_uri

pytestmark = pytest.mark.usefixtures("isolated_mlflow_env")


def test_server_answers_and_keeps_runs_in_postgres(mlflow, db):
    assert server_answers(mlflow.tracking_uri)
    with urllib.request.urlopen(f"{mlflow.tracking_uri}/api/2.0/mlflow/experiments/search?max_results=5") as r:
        assert r.status == 200
    assert backend_store_uri(mlflow).startswith("postgresql+psycopg2://") and backend_store_uri(mlflow).endswith(
        "/mlflow"
    )
    from powercast.db.connection import connect

    conn = connect(backend_store_uri(mlflow))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM experiments")
            assert cur.fetchone()[0] >= 1
    finally:
        conn.close()


def test_status_command(mlflow, make_settings):
    result = CliRunner().invoke(app, ["mlflow", "status"], env={"MLFLOW_TRACKING_URI": mlflow.tracking_uri})
    assert result.exit_code == 0 and "running" in result.output
    down = f"http://127.0.0.1:{make_settings().mlflow_port}"
    result = CliRunner().invoke(app, ["mlflow", "status"], env={"MLFLOW_TRACKING_URI": down})
    assert result.exit_code == 1 and "not running" in result.output


def test_start_is_idempotent_and_stop_of_nothing_says_so(mlflow, make_settings):
    server = MlflowServer(mlflow.model_copy(update={"mlflow_tracking_uri": None}))
    assert server.start() == mlflow.tracking_uri  # already running: a no-op
    assert MlflowServer(make_settings()).stop() is False
