"""Migration 0005: dead letters stay one per Kafka record. On a table that lost its key it removes duplicates
(keeping the earliest) and puts the key back; where the key is there (0001) it changes nothing."""

from __future__ import annotations

import shutil
import uuid

import pytest
from psycopg2 import sql

from powercast.db.connection import connect
from powercast.db.migrate import default_sql_dir, discover, migrate
from tests.databases import create_database
from tests.integration.ingest_support import query

KEY_MIGRATION = 5


@pytest.fixture
def scratch_url(postgres):
    """A database of its own on the session's server, dropped afterwards."""
    name = f"dlkey_{uuid.uuid4().hex[:10]}"
    yield create_database(postgres, name)
    conn = connect(postgres.app_database_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(name)))
    conn.close()


def _copy_migrations(target, below: int | None = None) -> None:
    for migration in discover(default_sql_dir()):
        if below is None or migration.version < below:
            shutil.copy(migration.path, target / migration.path.name)


def _unique_indexes(url: str) -> list[str]:
    sql_text = "SELECT indexname FROM pg_indexes WHERE tablename = 'dead_letters' AND indexdef LIKE 'CREATE UNIQUE%%'"
    return [name for (name,) in query(url, sql_text + " ORDER BY 1")]


def test_duplicates_are_removed_keeping_the_earliest_and_the_key_is_restored(scratch_url, tmp_path):
    _copy_migrations(tmp_path, below=KEY_MIGRATION)
    migrate(scratch_url, tmp_path)
    conn = connect(scratch_url)
    with conn.cursor() as cur:
        cur.execute("ALTER TABLE dead_letters DROP CONSTRAINT dead_letters_topic_partition_offset_key")
        cur.execute(
            """INSERT INTO dead_letters (topic, "partition", "offset", payload, error, received_at) VALUES
               ('t', 0, 1, 'second', 'e', now() - interval '1 hour'),
               ('t', 0, 1, 'first', 'e', now() - interval '2 hours'),
               ('t', 0, 1, 'third', 'e', now()),
               ('t', 0, 2, 'only', 'e', now()),
               ('t', 1, 1, 'other partition', 'e', now()),
               (NULL, NULL, NULL, 'no origin', 'e', now()),
               (NULL, NULL, NULL, 'no origin', 'e', now())"""
        )
    conn.commit()
    conn.close()

    _copy_migrations(tmp_path)
    applied = [m.version for m in migrate(scratch_url, tmp_path)]
    assert applied[0] == KEY_MIGRATION and all(v > KEY_MIGRATION for v in applied[1:])  # later ones may follow
    rows = query(scratch_url, 'SELECT "partition", "offset", payload FROM dead_letters ORDER BY 1, 2, 3')
    assert [(p, o, bytes(payload).decode()) for p, o, payload in rows] == [
        (0, 1, "first"),
        (0, 2, "only"),
        (1, 1, "other partition"),
        (None, None, "no origin"),  # no Kafka origin: not duplicates of anything, as the key treats NULLs
        (None, None, "no origin"),
    ]
    assert _unique_indexes(scratch_url) == ["dead_letters_pkey", "dead_letters_topic_partition_offset_key"]
    inserted = query(
        scratch_url,
        """INSERT INTO dead_letters (topic, "partition", "offset", error, reason) VALUES ('t', 0, 1, 'again', 'json')
           ON CONFLICT (topic, "partition", "offset") DO NOTHING RETURNING id""",
    )
    assert inserted == []


def test_where_the_key_exists_nothing_changes(postgres):
    url = postgres.app_database_url  # migrated through every migration by the session fixture
    assert KEY_MIGRATION in [m.version for m in discover(default_sql_dir())]
    assert _unique_indexes(url) == ["dead_letters_pkey", "dead_letters_topic_partition_offset_key"]
