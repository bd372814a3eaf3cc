"""
### Forecast quality

Every 5 minutes: scores each forecast step whose minute has passed against the actual one-minute power (per
machine, per horizon step) into `forecast_quality`, the table Dash and Grafana read.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, task
from powercast_airflow import DEFAULT_ARGS, TAGS, settings, summary


@dag(
    schedule=timedelta(minutes=5),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(minutes=10),
    default_args=DEFAULT_ARGS,
    tags=[*TAGS, "monitoring"],
    doc_md=__doc__,
)
def forecast_quality():
    @task
    def score() -> dict:
        from powercast.jobs.monitoring import score_forecast_quality

        return summary(score_forecast_quality(settings()))

    score()


forecast_quality()
