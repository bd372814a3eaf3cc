"""Migrations apply once, and the readings key makes replays harmless."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from powercast.db.connection import connect
from powercast.db.migrate import default_sql_dir, discover, migrate
from powercast.errors import PowercastError

SCHEMA_QUERY = """
SELECT table_name, column_name, data_type, is_nullable, column_default
FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, column_name
"""


def _schema(url: str):
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(SCHEMA_QUERY)
            columns = cur.fetchall()
            cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1")
            return columns, cur.fetchall()
    finally:
        conn.close()


def test_migrate_twice_gives_one_schema(postgres):
    url = postgres.app_database_url
    before = _schema(url)
    assert migrate(url) == []
    assert _schema(url) == before
    conn = connect(url)
    with conn.cursor() as cur:
        cur.execute("SELECT version FROM schema_migrations ORDER BY version")
        assert [v for (v,) in cur.fetchall()] == [m.version for m in discover(default_sql_dir())]
    conn.close()


def test_changed_migration_is_refused(postgres, tmp_path):
    for m in discover(default_sql_dir()):
        (tmp_path / m.path.name).write_text(m.sql)
    first = sorted(tmp_path.iterdir())[0]
    first.write_text(first.read_text() + "\n-- edited\n")
    with pytest.raises(PowercastError, match="changed after it was applied"):
        migrate(postgres.app_database_url, tmp_path)


def test_reading_inserted_twice_stays_one_row(db):
    row = ("M-TEST-1", "power", datetime(2026, 11, 25, 12, 0, 10, tzinfo=UTC), 1234.5, "W", str(uuid.uuid4()))
    with db.cursor() as cur:
        for _ in range(2):
            cur.execute(
                """INSERT INTO readings (machine_id, sensor, ts, value, unit, event_id)
                   VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (machine_id, sensor, ts) DO NOTHING""",
                row,
            )
        cur.execute("SELECT count(*) FROM readings WHERE machine_id = 'M-TEST-1'")
        assert cur.fetchone()[0] == 1


def test_readings_reject_unknown_sensor(db):
    import psycopg2

    with db.cursor() as cur, pytest.raises(psycopg2.errors.CheckViolation):
        cur.execute("""INSERT INTO readings (machine_id, sensor, ts, value, unit, event_id)
                       VALUES ('M-1', 'humidity', now(), 1, '%%', gen_random_uuid())""")
