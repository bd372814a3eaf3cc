"""
### Promote model

After `train_models` registers a challenger (asset `powercast-forecaster@challenger`), or on demand: scores
champion, challenger and persistence on the same recent holdout and records the decision (the rule of
`powercast promote`). A challenger that does not win is a successful run whose result says why.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, task
from powercast_airflow import CHALLENGER, DEFAULT_ARGS, TAGS, settings, summary


@dag(
    schedule=[CHALLENGER],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(minutes=30),
    default_args=DEFAULT_ARGS,
    tags=[*TAGS, "registry"],
    doc_md=__doc__,
)
def promote_model():
    @task
    def decide() -> dict:
        from powercast.jobs.promotion import promote_challenger

        return summary(promote_challenger(settings(), triggered_by="airflow:promote_model"))

    decide()


promote_model()
