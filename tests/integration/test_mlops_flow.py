"""Train twice, register, promote, roll back, and watch the service switch versions while it answers.

Real PostgreSQL and a real MLflow server (session fixtures); simulated history of a few machines up to a fixed
weekday afternoon.
"""

from __future__ import annotations

import threading
import time

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from powercast import registry
from powercast.db.connection import connect
from powercast.names import CHALLENGER_ALIAS, CHAMPION_ALIAS, PREVIOUS_CHAMPION_ALIAS
from powercast.scoring.minute_cache import MinuteCache
from powercast.serving.app import create_app
from powercast.serving.champion import registry_holder
from powercast.serving.fleet import score_fleet
from powercast.serving.forecasts import latest_forecast
from powercast.training import promotion_log
from powercast.training.promotion import promote, rollback
from powercast.training.tracking import track_and_register
from tests.mlops.data import insert_readings

pytestmark = pytest.mark.usefixtures("isolated_mlflow_env")

MACHINES = 3
DAYS = 2.25  # from Monday morning: the load profile learns from a previous working day
HOLDOUT_HOURS = 3.0
END = pd.Timestamp("2026-11-18 15:00", tz="UTC")  # a fixed weekday afternoon: the machines are in shift


@pytest.fixture(scope="module")
def history(postgres):
    """Readings of a few machines up to END, in the database; their minute frame."""
    from powercast.features.aggregate import minute_frame_from_readings
    from tests.simulated import fleet_attributes, meter_readings

    start = (END - pd.Timedelta(days=DAYS)).isoformat()
    readings = meter_readings(days=DAYS, n_machines=MACHINES, seed=5, every_s=60, start=start)
    attributes = fleet_attributes(MACHINES, seed=5)
    for table in (readings, attributes):
        table["machine_id"] = table["machine_id"].str.replace("M-", "FLOW-")
    conn = connect(postgres.app_database_url)
    try:
        insert_readings(conn, readings, attributes)
    finally:
        conn.close()
    yield minute_frame_from_readings(readings, machines=attributes)
    conn = connect(postgres.app_database_url)
    try:
        with conn.cursor() as cur:  # leave the shared database as other tests expect it
            for table in ("forecasts", "readings", "machines"):
                cur.execute(f"DELETE FROM {table} WHERE machine_id LIKE 'FLOW-%%'")
        conn.commit()
    finally:
        conn.close()


def _train(frame, settings, run_name):
    from powercast.features.spec import FeatureSpec
    from powercast.training.holdout import training_part
    from powercast.training.pipeline import train_models

    frame = training_part(frame, HOLDOUT_HOURS)  # as `powercast train` does: promotion judges on unseen hours
    report = train_models(frame, ["xgb"], n_windows=2, spec=FeatureSpec(), params={"xgb": {"n_estimators": 80}})
    return report, track_and_register(
        report, settings, frame=frame, n_windows=2, run_name=run_name, triggered_by="test"
    )


def _aliases(settings):
    client = registry.connect(settings)
    return {
        alias: (ref.version if ref else None)
        for alias in (CHAMPION_ALIAS, CHALLENGER_ALIAS, PREVIOUS_CHAMPION_ALIAS)
        for ref in [registry.version_by_alias(client, alias)]
    }


def test_train_promote_rollback_and_serve(mlflow, history):
    import mlflow as mlflow_lib

    # first training run: logged and registered as challenger
    report, first = _train(history, mlflow, "first")
    assert first.version is not None
    run = mlflow_lib.get_run(first.run_id)
    assert run.data.params["best_model"] == report.best
    assert f"{report.best}.mae" in run.data.metrics
    history_by_step = mlflow_lib.MlflowClient().get_metric_history(first.run_id, f"{report.best}.mae_by_step")
    assert sorted(m.step for m in history_by_step) == list(range(1, 16))
    artifacts = {a.path for a in mlflow_lib.MlflowClient().list_artifacts(first.run_id, "plots")}
    assert {"plots/error_by_horizon.png", "plots/forecast_vs_actual.png"} <= artifacts
    assert run.inputs.dataset_inputs and run.inputs.dataset_inputs[0].dataset.name.startswith("features_1m")
    assert _aliases(mlflow)[CHALLENGER_ALIAS] == first.version

    # no champion yet: a challenger that beats persistence becomes champion
    decision = promote(mlflow, margin=0.02, hours=HOLDOUT_HOURS, triggered_by="test", until=END)
    assert decision.record.outcome == "promoted", decision.record.reason
    assert decision.record.persistence_mae > decision.record.challenger_mae
    assert decision.record.holdout_start > pd.Timestamp(decision.record.details["trained_through"]["challenger"])
    assert _aliases(mlflow) == {CHAMPION_ALIAS: first.version, CHALLENGER_ALIAS: None, PREVIOUS_CHAMPION_ALIAS: None}

    # second run: an impossible margin keeps the champion; margin 0 promotes (same data, same model quality)
    _, second = _train(history, mlflow, "second")
    kept = promote(mlflow, margin=0.99, hours=HOLDOUT_HOURS, triggered_by="test", until=END)
    assert kept.record.outcome == "kept" and kept.record.champion_version == first.version
    assert _aliases(mlflow)[CHAMPION_ALIAS] == first.version
    promoted = promote(mlflow, margin=0.0, hours=HOLDOUT_HOURS, triggered_by="test", until=END)
    assert promoted.record.outcome == "promoted", promoted.record.reason
    assert _aliases(mlflow)[CHAMPION_ALIAS] == second.version
    assert _aliases(mlflow)[PREVIOUS_CHAMPION_ALIAS] == first.version

    # decisions are recorded in the table and as tags
    conn = connect(mlflow.app_database_url)
    try:
        recorded = promotion_log.decisions(conn)
        assert list(recorded["outcome"][:3]) == ["promoted", "kept", "promoted"]
        row = recorded.iloc[0]
        assert (row.champion_version, row.challenger_version) == (first.version, second.version)
        assert row.champion_mae is not None and row.challenger_mae is not None and row.triggered_by == "test"
    finally:
        conn.close()
    tags = registry.get_version(registry.connect(mlflow), second.version).tags
    assert tags["promotion.outcome"] == "promoted" and tags["promotion.role"] == "challenger"

    # the service serves v2, then switches to v1 on rollback without a failed request
    holder = registry_holder(mlflow)
    with TestClient(create_app(holder, mlflow.app_database_url, poll_s=None), base_url="http://localhost") as client:
        body = _request_body(history)
        assert client.post("/forecast", json=body).json()["forecasts"][0]["model_version"] == second.version
        statuses, versions, stop = [], [], threading.Event()

        def hammer():
            while not stop.is_set():
                response = client.post("/forecast", json=body)
                statuses.append(response.status_code)
                if response.status_code == 200:
                    versions.append(response.json()["forecasts"][0]["model_version"])

        thread = threading.Thread(target=hammer)
        thread.start()
        try:
            rolled = rollback(mlflow, triggered_by="test", reason="integration test")
            assert rolled.record.new_champion_version == first.version
            assert holder.refresh()
            seen = len(versions)
            while len(versions) < seen + 2:
                time.sleep(0.05)
        finally:
            stop.set()
            thread.join()
        assert set(statuses) == {200}
        assert versions[0] == second.version and versions[-1] == first.version

        # the per-minute loop writes every machine's forecast with the serving version
        issue = END
        conn = connect(mlflow.app_database_url)
        try:
            run = score_fleet(conn, holder, issue)
            assert run.error is None and run.model_version == first.version
            assert run.machines >= MACHINES and run.forecast_rows >= MACHINES * 15
            stored = latest_forecast(conn, "FLOW-001")
            assert len(stored) == 15 and set(stored["model_version"]) == {first.version}
            # the scheduler's round, from the minutes its cache keeps, writes the very same forecasts
            issued = _issued(conn, issue)
            cached = score_fleet(conn, holder, issue, MinuteCache())
            assert (cached.machines, cached.forecast_rows) == (run.machines, run.forecast_rows)
            pd.testing.assert_frame_equal(_issued(conn, issue), issued, check_exact=True)
            champion_periods = promotion_log.champion_history(conn)
            assert list(champion_periods["version"][-3:]) == [first.version, second.version, first.version]
        finally:
            conn.close()
        served = client.get("/forecasts/FLOW-001").json()
        assert served["model_version"] == first.version and len(served["points"]) == 15
        assert client.get("/forecasts/NOPE").status_code == 404


def _issued(conn, issue_ts: pd.Timestamp) -> pd.DataFrame:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT machine_id, step, ts, yhat, yhat_lo, yhat_hi, model_version FROM forecasts "
            "WHERE issue_ts = %s ORDER BY machine_id, step",
            (issue_ts.floor("min"),),
        )
        rows = cur.fetchall()
    conn.rollback()
    assert rows
    return pd.DataFrame(rows, columns=["machine_id", "step", "ts", "yhat", "yhat_lo", "yhat_hi", "model_version"])


def _request_body(frame: pd.DataFrame, minutes: int = 70) -> dict:
    part = frame[frame["machine_id"] == "FLOW-002"].tail(minutes).dropna(subset=["power"])
    return {
        "readings": [
            {
                "machine_id": "FLOW-002",
                "sensor": "power",
                "ts": ts.isoformat(),
                "value": float(v),
                "machine_type": part["machine_type"].iloc[0],
                "rated_power_w": float(part["rated_power_w"].iloc[0]),
            }
            for ts, v in zip(part["ts"], part["power"])
        ]
    }


def test_only_versions_training_recorded_are_loaded(mlflow, history):
    """A version registered or re-aliased by hand is refused before anything of it is unpickled; so is a
    version whose artifacts no longer hash to the digest training recorded."""
    import mlflow as mlflow_lib

    from powercast.names import MODEL_DIGESTS_TABLE, REGISTERED_MODEL

    _, trained = _train(history, mlflow, "digest")
    digest = registry.recorded_digest(mlflow, trained.version)
    assert digest is not None and len(digest) == 64
    assert registry.load_forecaster_model(mlflow, trained.version).model_name == trained.model_name

    client = registry.connect(mlflow)
    before = registry.version_by_alias(client, CHAMPION_ALIAS)
    by_hand = str(mlflow_lib.register_model(f"runs:/{trained.run_id}/model", REGISTERED_MODEL).version)
    try:
        registry.set_alias(client, CHAMPION_ALIAS, by_hand)
        holder = registry_holder(mlflow)
        assert holder.refresh() is False
        assert f"version {by_hand} has no digest recorded by training" in holder.registry_error
        with pytest.raises(registry.UntrustedVersion, match="no digest recorded"):
            registry.load_forecaster_model(mlflow, by_hand)

        conn = connect(mlflow.app_database_url)
        try:
            with conn, conn.cursor() as cur:
                cur.execute(
                    f"UPDATE {MODEL_DIGESTS_TABLE} SET digest = %s WHERE version = %s", ("0" * 64, trained.version)
                )
            with pytest.raises(registry.UntrustedVersion, match="not to the 000000000000"):
                registry.load_forecaster_model(mlflow, trained.version)
        finally:
            conn.close()
    finally:
        if before is not None:
            registry.set_alias(client, CHAMPION_ALIAS, before.version)
        registry.record_digest(mlflow, trained.version, trained.run_id)
