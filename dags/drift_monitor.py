"""
### Drift monitor

Hourly: compares the last `POWERCAST_DRIFT_WINDOW_HOURS` (24) of features with the window the champion was
trained on (Evidently), checks the matured forecasts' error against the champion's cross-validation error and
the operators' rejected rate, stores the HTML report in MLflow and a row in `drift_reports`. When the decision
is to retrain (`POWERCAST_DRIFT_SHARE` of the features drifted, default 0.15, or the error ratio reached
`POWERCAST_DRIFT_ERROR_RATIO`, default 1.5), it triggers `train_models` and records that run on the report.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import dag, task
from powercast_airflow import DEFAULT_ARGS, TAGS, settings, summary


@dag(
    schedule=timedelta(hours=1),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(minutes=30),
    default_args=DEFAULT_ARGS,
    tags=[*TAGS, "monitoring"],
    doc_md=__doc__,
)
def drift_monitor():
    @task
    def report() -> dict:
        from powercast.jobs.monitoring import drift_report

        return summary(drift_report(settings()))

    @task.short_circuit
    def needs_training(found: dict) -> bool:
        return found["decision"] == "retrain"

    trigger = TriggerDagRunOperator(
        task_id="trigger_training",
        trigger_dag_id="train_models",
        conf={"reason": "drift"},
        wait_for_completion=False,
    )

    @task
    def record_trigger(found: dict, training_run: str) -> None:
        from powercast.jobs.monitoring import record_trigger as record

        record(settings(), int(found["report_id"]), training_run)

    found = report()
    needs_training(found) >> trigger
    record_trigger(found, trigger.output["trigger_run_id"])


drift_monitor()
