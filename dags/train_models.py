"""
### Train models

Cross-validates each requested model on the recent features (the latest hours are kept back for promotion),
in parallel tasks, one MLflow run each; the model with the lowest cross-validation MAE is registered as the
`challenger` (asset `powercast-forecaster@challenger`, which starts `promote_model`).

Runs daily, when `feature_snapshot` reports enough new feature minutes, on drift (`drift_monitor`), and on
demand with the params `models`, `days` and `windows`. The run ids and metrics are in each task's log and XCom.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import AssetOrTimeSchedule, Param, dag, get_current_context, task
from airflow.timetables.trigger import CronTriggerTimetable
from powercast_airflow import CHALLENGER, DEFAULT_ARGS, FEATURES_FOR_TRAINING, TAGS, settings, summary

DAILY = CronTriggerTimetable("0 3 * * *", timezone="UTC")


@dag(
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 3 * * *", timezone="UTC"), assets=FEATURES_FOR_TRAINING
    ),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=3),
    default_args=DEFAULT_ARGS,
    tags=[*TAGS, "training"],
    doc_md=__doc__,
    params={
        "models": Param(["xgb", "lstm"], type="array", description="Forecasters to train (xgb, lstm, baselines)."),
        "days": Param(28.0, type="number", minimum=0.1, description="Train on the last DAYS days of features."),
        "windows": Param(3, type="integer", minimum=1, description="Expanding cross-validation windows."),
    },
)
def train_models():
    @task
    def requested_models() -> list[str]:
        return list(get_current_context()["params"]["models"])

    @task(retries=0)
    def train(model: str) -> dict:
        from powercast.jobs.training import train_and_register

        params = get_current_context()["params"]
        run = train_and_register(
            settings(),
            models=[model],
            days=float(params["days"]),
            windows=int(params["windows"]),
            register=True,
            as_challenger=False,
            triggered_by="airflow:train_models",
        )
        return summary(run)

    @task(outlets=[CHALLENGER])
    def register_best(candidates: list[dict]) -> dict:
        from powercast.jobs.training import register_best as register

        return summary(register(settings(), list(candidates), triggered_by="airflow:train_models"))

    register_best(train.expand(model=requested_models()))


train_models()
