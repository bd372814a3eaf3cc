"""Every file in dags/ imports without error, each DAG has the properties the platform relies on, and parsing a
DAG file imports nothing heavy (the DAG processor parses the folder every few seconds)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta

import pytest

from tests.dags.conftest import DAGS, PLUGINS

EXPECTED = {"feature_snapshot", "train_models", "promote_model", "drift_monitor", "forecast_quality"}
HEAVY = ("pandas", "numpy", "torch", "xgboost", "mlflow", "evidently", "lightning", "sklearn", "psycopg2")


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_every_dag_file_imports(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == EXPECTED
    assert len(list(DAGS.glob("*.py"))) == len(EXPECTED)  # one DAG per file


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_dag_properties(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    assert dag.catchup is False
    assert dag.max_active_runs == 1
    assert dag.dagrun_timeout is not None and dag.dagrun_timeout <= timedelta(hours=3)
    assert "powercast" in dag.tags and len(dag.tags) >= 2
    assert dag.doc_md and dag.doc_md.strip().startswith("###")
    for task in dag.tasks:
        if task.task_id == "train":  # a failed training is not retried on the spot: the next trigger retrains
            assert task.retries == 0
            continue
        assert task.retries >= 1 and task.retry_delay >= timedelta(seconds=30), task.task_id


def test_parsing_the_dag_folder_imports_nothing_heavy():
    probe = f"""
import json, sys, runpy
sys.path.insert(0, {str(PLUGINS)!r})
import airflow.sdk, airflow.providers.standard.operators.trigger_dagrun, airflow.timetables.trigger
before = set(sys.modules)
for path in sorted(__import__("pathlib").Path({str(DAGS)!r}).glob("*.py")):
    runpy.run_path(str(path))
print(json.dumps(sorted(set(sys.modules) - before)))
"""
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    added = json.loads(result.stdout.strip().splitlines()[-1])
    heavy = [m for m in added if m.split(".")[0] in HEAVY or m.startswith("powercast.jobs")]
    assert heavy == []
