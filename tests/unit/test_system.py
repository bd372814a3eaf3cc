"""`powercast up`: how much history to backfill, and how settings reach the supervised services."""

import os
from datetime import UTC, datetime, timedelta

from powercast.config import Settings
from powercast.stack.system import UpOptions, backfill_days, settings_env

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_fresh_database_gets_the_whole_history():
    assert backfill_days(None, UpOptions(history_days=14), NOW) == 14


def test_restart_backfills_only_the_gap():
    assert backfill_days(NOW - timedelta(hours=6), UpOptions(history_days=14), NOW) == 0.25


def test_gap_is_capped_by_the_history_setting():
    assert backfill_days(NOW - timedelta(days=60), UpOptions(history_days=14), NOW) == 14


def test_readings_in_the_future_need_no_backfill():
    assert backfill_days(NOW + timedelta(minutes=1), UpOptions(), NOW) == 0


def test_services_see_the_parents_settings(tmp_path, monkeypatch):
    for name in [n for n in os.environ if n.startswith("POWERCAST_")] + ["DATABASE_URL", "MLFLOW_TRACKING_URI"]:
        monkeypatch.delenv(name, raising=False)  # earlier tests (MLflow's set_tracking_uri) may leave some set
    settings = Settings(
        _env_file=None,
        data_dir=tmp_path,
        kafka_port=19092,
        database_url="postgresql://u@h/db",
        mlflow_tracking_uri=None,
    )
    env = settings_env(settings)
    assert env["POWERCAST_KAFKA_PORT"] == "19092"
    assert env["DATABASE_URL"] == "postgresql://u@h/db"
    assert env["POWERCAST_DATA_DIR"] == str(tmp_path)
    assert "MLFLOW_TRACKING_URI" not in env
    assert Settings(_env_file=None, **{k: v for k, v in settings.model_dump().items() if v is not None}) == settings


def test_each_start_of_the_simulator_backfills_only_the_gap(tmp_path, monkeypatch):
    from powercast.stack import system

    last = [None]
    monkeypatch.setattr(system, "latest_reading", lambda url: last[0])
    settings = Settings(_env_file=None, data_dir=tmp_path, database_url="postgresql://u@h/db")
    simulate = system.supervised_services(settings, UpOptions(machines=3, history_days=2))["simulate"]

    def backfill_arg() -> float:
        command = simulate.command()
        return float(command[command.index("--backfill-days") + 1])

    assert backfill_arg() == 2  # an empty database: the whole history
    last[0] = datetime.now(UTC) - timedelta(hours=1)  # a restart an hour after the last stored reading
    assert abs(backfill_arg() - 1 / 24) < 1e-3
    assert simulate.command()[simulate.command().index("--machines") + 1] == "3"
