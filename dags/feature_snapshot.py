"""
### Feature snapshot

Every 5 minutes: bring `features_1m` up to date with the readings ingested since the previous snapshot (only
new and late minutes are recomputed) and record the snapshot. Updates the asset `features_1m`; when enough new
minutes have arrived since the newest registered model's training data
(`POWERCAST_RETRAIN_AFTER_MINUTES` per machine, default 720), also the asset `features_1m.new_minutes`,
which starts `train_models`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, task
from powercast_airflow import DEFAULT_ARGS, FEATURES, FEATURES_FOR_TRAINING, TAGS, settings, summary


@dag(
    schedule=timedelta(minutes=5),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(minutes=15),
    default_args=DEFAULT_ARGS,
    tags=[*TAGS, "features"],
    doc_md=__doc__,
)
def feature_snapshot():
    @task(outlets=[FEATURES])
    def snapshot() -> dict:
        from powercast.jobs.features import snapshot_features

        return summary(snapshot_features(settings()))

    @task.short_circuit
    def enough_new_minutes(_: dict) -> bool:
        from powercast.jobs.training import training_is_due

        return training_is_due(settings())

    @task(outlets=[FEATURES_FOR_TRAINING])
    def announce() -> None:
        """Marks the asset that starts training."""

    enough_new_minutes(snapshot()) >> announce()


feature_snapshot()
