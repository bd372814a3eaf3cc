"""What the powercast DAGs share: default task arguments, the assets they pass along, and the two calls every
task makes (settings from the environment, a JSON summary for XCom).

Airflow puts this folder on `sys.path`. Nothing here imports more than `powercast.names` at module level: DAG
files are parsed every few seconds, so the heavy imports happen inside the task bodies.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Asset

from powercast.names import CHALLENGER_ALIAS, FEATURES_TABLE, REGISTERED_MODEL

DEFAULT_ARGS = {
    "owner": "powercast",
    "retries": 2,
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": True,
}
TAGS = ["powercast"]

FEATURES = Asset(FEATURES_TABLE)  # every feature snapshot updates it
FEATURES_FOR_TRAINING = Asset(f"{FEATURES_TABLE}.new_minutes")  # enough new minutes since the last training
CHALLENGER = Asset(f"{REGISTERED_MODEL}@{CHALLENGER_ALIAS}")  # a new challenger was registered


def settings():
    """The task's settings, from the environment the runtime gave Airflow (DATABASE_URL, MLFLOW_TRACKING_URI)."""
    from powercast.config import Settings

    return Settings()


def summary(result) -> dict:
    """A job's result as plain JSON (small: ids, counts, metrics), for XCom and the task log."""
    import json
    import logging

    from powercast.jobs.results import as_dict

    out = as_dict(result)
    logging.getLogger("powercast").info("result: %s", json.dumps(out, default=str))
    return out
