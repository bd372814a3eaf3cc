"""The embedded PostgreSQL starts once, reports itself, and defers to DATABASE_URL when set."""

from __future__ import annotations

import pytest

from powercast.errors import PowercastError
from powercast.names import AIRFLOW_DATABASE, APP_DATABASE, MLFLOW_DATABASE
from powercast.stack.postgres import EmbeddedPostgres


def test_start_is_idempotent_and_creates_the_databases(postgres, db):
    server = EmbeddedPostgres(postgres)
    assert server.start() == postgres.app_database_url
    with db.cursor() as cur:
        cur.execute("SELECT datname FROM pg_database")
        names = {n for (n,) in cur.fetchall()}
    assert {APP_DATABASE, MLFLOW_DATABASE, AIRFLOW_DATABASE} <= names


def test_external_database_url_starts_nothing(postgres, make_settings):
    settings = make_settings(database_url=postgres.app_database_url)
    server = EmbeddedPostgres(settings)
    assert server.start() == postgres.app_database_url
    assert not server.pgdata.exists()
    assert server.stop() is False


def test_unreachable_database_url_is_one_clear_error(make_settings):
    from powercast.stack.process import free_port

    settings = make_settings(database_url=f"postgresql://nobody:secret@127.0.0.1:{free_port()}/none")
    with pytest.raises(PowercastError) as err:
        EmbeddedPostgres(settings).start()
    message = str(err.value)
    assert "cannot reach PostgreSQL" in message and "DATABASE_URL" in message
    assert "secret" not in message and "\n" not in message
