"""Labels, their history, the review queue, the rejected rate, users and sessions against the real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from powercast.db.connection import connect
from powercast.errors import PowercastError
from powercast.feedback import sessions, store
from powercast.feedback.store import Label
from powercast.feedback.users import add_user, authenticate
from tests.ui.seed import seed_fleet


@pytest.fixture(scope="module")
def fleet(postgres):
    return seed_fleet(postgres.app_database_url, prefix="FB", machines=3, hours=2)


@pytest.fixture(scope="module")
def user(postgres):
    conn = connect(postgres.app_database_url)
    try:
        return add_user(conn, "fb-operator", "a good password", "operator")
    finally:
        conn.close()


@pytest.fixture
def conn(postgres):
    c = connect(postgres.app_database_url)
    yield c
    c.close()


def test_a_changed_label_keeps_the_earlier_one_in_history(fleet, user, conn):
    machine, issue = fleet.machines[0], fleet.issue_times[0]
    first = store.record_label(conn, user, machine, issue, Label("correct", comment="looks right"))
    second = store.record_label(conn, user, machine, issue, Label("incorrect", "maintenance", "filter change"))
    history = store.label_history(conn, machine, issue)
    assert history["id"].tolist() == [second, first]
    assert (
        history.iloc[0]["superseded_at"] is None or history.iloc[0]["superseded_at"] != history.iloc[0]["superseded_at"]
    )
    assert history.iloc[1]["superseded_by"] == second and history.iloc[1]["verdict"] == "correct"
    assert history.iloc[0][["verdict", "reason", "comment", "labelled_by"]].tolist() == [
        "incorrect",
        "maintenance",
        "filter change",
        "fb-operator",
    ]
    assert history["model_version"].tolist() == ["1", "1"]


def test_the_queue_holds_matured_unlabelled_forecasts_newest_first(fleet, user, conn):
    queue = store.review_queue(conn, fleet.now, hours=3, machine_id=fleet.machines[1])
    assert len(queue) and queue["issue_ts"].is_monotonic_decreasing
    assert (queue["issue_ts"] <= fleet.now - timedelta(minutes=15)).all()
    top = queue.iloc[0]
    store.record_label(conn, user, top.machine_id, top.issue_ts, Label("correct"))
    after = store.review_queue(conn, fleet.now, hours=3, machine_id=fleet.machines[1])
    assert top.issue_ts not in set(after["issue_ts"]) and len(after) == len(queue) - 1


def test_unknown_or_unripe_forecasts_cannot_be_labelled(fleet, user, conn):
    with pytest.raises(PowercastError, match="no forecast"):
        store.record_label(conn, user, fleet.machines[0], datetime(2001, 1, 1, tzinfo=UTC), Label("correct"))
    latest = fleet.issue_times[-1]
    with pytest.raises(PowercastError, match="not matured"):
        store.record_label(conn, user, fleet.machines[0], latest, Label("correct"))


def test_forecast_vs_actual_has_every_step_with_the_minute_mean(fleet, conn):
    steps = store.forecast_vs_actual(conn, fleet.machines[2], fleet.issue_times[3])
    assert steps["step"].tolist() == list(range(1, 16))
    assert steps["actual"].notna().all() and (steps["yhat_lo"] <= steps["yhat"]).all()


def test_rejected_rate_per_model_version(fleet, user, conn):
    machine = fleet.machines[2]
    since, until = fleet.issue_times[0], fleet.issue_times[-1]
    v1 = fleet.issue_times[:4]
    verdicts = [Label("incorrect", "model_wrong"), Label("correct"), Label("correct"), Label("incorrect", "other")]
    for issue, label in zip(v1, verdicts):
        store.record_label(conn, user, machine, issue, label)
    rates = store.rejected_rates(conn, since, until).set_index("model_version")
    labels = store.labels_between(conn, since, until)
    for version, part in labels.groupby("model_version"):
        share = float((part["verdict"] == "incorrect").mean())
        assert rates.loc[version, "labelled"] == len(part)
        assert store.rejected_rate(conn, since, until, model_version=version) == pytest.approx(share)
    assert rates.loc["1", "rejected"] >= 2  # the two incorrect labels above are on version-1 forecasts
    overall = float((labels["verdict"] == "incorrect").mean())
    assert store.rejected_rate(conn, since, until) == pytest.approx(overall)
    assert store.rejected_rate(conn, since, until, model_version="99") is None


def test_login_and_session_expiry(user, conn):
    assert authenticate(conn, "fb-operator", "a good password") == user
    assert authenticate(conn, "fb-operator", "wrong") is None
    assert authenticate(conn, "nobody", "a good password") is None
    token = sessions.start_session(conn, user, hours=1)
    assert sessions.session_user(conn, token) == user
    assert sessions.session_user(conn, token + "x") is None
    expired = sessions.start_session(conn, user, hours=1, now=datetime.now(UTC) - timedelta(hours=2))
    assert sessions.session_user(conn, expired) is None
    sessions.end_session(conn, token)
    assert sessions.session_user(conn, token) is None


def test_passwords_are_stored_only_as_hashes(user, conn):
    with conn.cursor() as cur:
        cur.execute("SELECT password_hash FROM users WHERE username = %s", ("fb-operator",))
        (stored,) = cur.fetchone()
    assert stored.startswith("$argon2id$") and "a good password" not in stored
    with pytest.raises(PowercastError, match="exists"):
        add_user(conn, "fb-operator", "another password", "admin")
