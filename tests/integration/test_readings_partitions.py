"""readings is partitioned by UTC day (sql/0010): partitions are made ahead and on demand, rows of a day without
one wait in the default partition, old days are dropped whole, and the migration keeps the rows it found."""

from __future__ import annotations

import shutil
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from powercast.db.connection import connect
from powercast.db.migrate import default_sql_dir, discover, migrate
from powercast.db.partitions import create_partitions, maintain_partitions
from tests.databases import create_database

# Days far from every other test's data: the session database is shared.
NOW = datetime(2001, 1, 10, 12, 0, tzinfo=UTC)


def _partition_of(cur, machine: str) -> list[tuple[str, int]]:
    cur.execute(
        "SELECT tableoid::regclass::text, count(*) FROM readings WHERE machine_id = %s GROUP BY 1 ORDER BY 1",
        (machine,),
    )
    return cur.fetchall()


def _insert(cur, machine: str, ts: datetime) -> None:
    cur.execute(
        "INSERT INTO readings (machine_id, sensor, ts, value, unit, event_id) VALUES (%s, 'power', %s, 1, 'W', %s)",
        (machine, ts, str(uuid.uuid4())),
    )


@pytest.fixture
def conn(postgres):
    conn = connect(postgres.app_database_url)
    yield conn
    conn.rollback()
    with conn.cursor() as cur:  # forget the year-2001 days again
        cur.execute("SELECT count(*) FROM readings_drop_partitions('2002-01-01')")
        cur.execute("DELETE FROM readings WHERE ts < '2002-01-01'")
    conn.commit()
    conn.close()


def test_a_day_without_partition_waits_in_the_default_and_moves_when_its_day_is_made(conn):
    machine = f"M-PART-{uuid.uuid4().hex[:6]}"
    with conn.cursor() as cur:
        _insert(cur, machine, datetime(2001, 1, 3, 23, 59, 59, tzinfo=UTC))
        _insert(cur, machine, datetime(2001, 1, 4, 0, 0, 0, tzinfo=UTC))
        conn.commit()
        assert _partition_of(cur, machine) == [("readings_default", 2)]
        cur.execute("SELECT count(DISTINCT (ts AT TIME ZONE 'UTC')::date) FROM readings_default")
        held = cur.fetchone()[0]  # these two days, and any day another test left there
        conn.commit()

        upkeep = maintain_partitions(conn, retention_days=0, now=NOW)
        assert held >= 2 and upkeep.created == 8 + held  # today and the week ahead, and the days the default held
        assert _partition_of(cur, machine) == [("readings_p20010103", 1), ("readings_p20010104", 1)]
        cur.execute("SELECT count(*) FROM readings_default WHERE ts < '2002-01-01'")
        assert cur.fetchone()[0] == 0


def test_partitions_are_made_ahead_once(conn):
    assert maintain_partitions(conn, retention_days=0, now=NOW).created == 8
    assert maintain_partitions(conn, retention_days=0, now=NOW).created == 0
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('readings_p20010117'), to_regclass('readings_p20010118')")
        assert cur.fetchone() == ("readings_p20010117", None)
    assert create_partitions(conn, [date(2001, 1, 18), date(2001, 1, 20), date(2001, 1, 19)]) == 3


def test_retention_drops_whole_days_older_than_the_setting(conn):
    machine = f"M-RET-{uuid.uuid4().hex[:6]}"
    create_partitions(conn, [NOW.date() - timedelta(days=d) for d in range(5)])
    with conn.cursor() as cur:
        for days_ago in range(5):
            _insert(cur, machine, NOW - timedelta(days=days_ago))
        _insert(cur, machine, datetime(2000, 6, 1, tzinfo=UTC))  # no partition of its own: the default holds it
        conn.commit()
        upkeep = maintain_partitions(conn, retention_days=2, now=NOW)
        assert upkeep.dropped == ["readings_p20010106", "readings_p20010107"]
        assert [p for p, _ in _partition_of(cur, machine)] == [
            "readings_p20010108",
            "readings_p20010109",
            "readings_p20010110",
        ]


def test_the_migration_keeps_existing_rows_and_the_grafana_grant(postgres, tmp_path):
    """Apply the migrations before 0010 to a fresh database, store readings, then apply 0010."""
    url = create_database(postgres, f"partmig_{uuid.uuid4().hex[:6]}")
    for m in discover(default_sql_dir()):
        if m.version < 10:
            shutil.copy(m.path, tmp_path / m.path.name)
    migrate(url, tmp_path)
    c = connect(url)
    try:
        with c.cursor() as cur:
            _insert(cur, "M-OLD", datetime(2026, 11, 25, 12, tzinfo=UTC))
            _insert(cur, "M-OLD", datetime(2026, 11, 26, 12, tzinfo=UTC))
        c.commit()
        migrate(url)
        with c.cursor() as cur:
            assert _partition_of(cur, "M-OLD") == [("readings_p20261125", 1), ("readings_p20261126", 1)]
            cur.execute("SELECT relkind FROM pg_class WHERE relname = 'readings'")
            assert cur.fetchone() == ("p",)
            cur.execute("SELECT has_table_privilege('powercast_grafana', 'readings', 'SELECT')")
            assert cur.fetchone() == (True,)
            cur.execute("SELECT to_regclass('readings_unpartitioned')")
            assert cur.fetchone() == (None,)
    finally:
        c.close()
