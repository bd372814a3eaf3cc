"""Airflow for the DAG tests: a private AIRFLOW_HOME, the DAG folder and the plugins on the path.

Set before anything imports Airflow (which reads its configuration once, at import)."""

import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DAGS, PLUGINS = REPO / "dags", REPO / "plugins"

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="powercast-airflow-"))
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(DAGS)
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(PLUGINS)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
if str(PLUGINS) not in sys.path:
    sys.path.insert(0, str(PLUGINS))
