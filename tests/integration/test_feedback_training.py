"""Labels stored by the control center reach the next training: `load_training_data` (what `powercast train` and
the training DAG use) turns them into target weights over the features in PostgreSQL."""

from __future__ import annotations

import pandas as pd
import pytest

from powercast.db.connection import connect
from powercast.feedback.store import Label, record_label
from powercast.feedback.users import add_user
from powercast.training.feedback import load_training_data
from tests.ui.seed import seed_fleet


@pytest.fixture(scope="module")
def labelled(postgres):
    url = postgres.app_database_url
    fleet = seed_fleet(url, prefix="FT", machines=2, hours=3)
    conn = connect(url)
    try:
        user = add_user(conn, "ft-operator", "a good password", "operator")
        fault, wrong, fine = fleet.issue_times[4], fleet.issue_times[10], fleet.issue_times[12]
        machine = fleet.machines[0]
        record_label(conn, user, machine, fault, Label("correct"))
        record_label(conn, user, machine, fault, Label("incorrect", "sensor_fault", "probe unplugged"))  # changed
        record_label(conn, user, machine, wrong, Label("incorrect", "model_wrong"))
        record_label(conn, user, fleet.machines[1], fine, Label("correct"))
    finally:
        conn.close()
    return fleet, machine, fault, wrong


def test_current_labels_become_target_weights(postgres, labelled):
    fleet, machine, fault, wrong = labelled
    data = load_training_data(postgres, start=None, holdout_hours=0)
    weights = data.sample_weight[data.sample_weight["machine_id"].str.startswith("FT-")]
    by = {(m, ts): w for m, ts, w in weights.itertuples(index=False)}
    fault_minutes = pd.date_range(pd.Timestamp(fault), periods=15, freq="min")
    wrong_minutes = pd.date_range(pd.Timestamp(wrong), periods=15, freq="min")
    assert [by[(machine, t)] for t in fault_minutes] == [0.0] * 15
    assert [by[(machine, t)] for t in wrong_minutes] == [3.0] * 15
    assert len(weights) == 30  # the correct label (and the superseded one) change nothing
    counts = data.feedback.counts
    assert counts["labels.incorrect.sensor_fault"] >= 1 and counts["labels.incorrect.model_wrong"] >= 1
    assert counts["labels.total"] == counts["labels.correct"] + counts["labels.incorrect"]
    assert 0 < data.feedback.rejected_rate < 1


def test_the_holdout_is_not_labelled_into_training(postgres, labelled):
    fleet, machine, fault, wrong = labelled
    # 3 seeded hours, the last 2.5 held out: training keeps the first half hour, every label is on a later forecast
    data = load_training_data(postgres, start=None, holdout_hours=2.5)
    trained = data.frame[data.frame["machine_id"].str.startswith("FT-")]
    assert not trained.empty and trained["ts"].max() < pd.Timestamp(min(fault, wrong))
    if data.sample_weight is not None:
        assert not data.sample_weight["machine_id"].str.startswith("FT-").any()
