"""The embedded PostgreSQL asks every connection for a password, and powercast works as a role that is not a
superuser; a cluster made by an earlier powercast, which trusted every local connection, is moved to the same
arrangement on its first start, its data kept."""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime

import psycopg2
import pytest
from psycopg2 import sql

from powercast.credentials import APP_ROLE, credentials_file
from powercast.db.connection import connect
from powercast.db.migrate import migrate
from powercast.errors import PowercastError
from powercast.names import AIRFLOW_DATABASE, APP_DATABASE, MLFLOW_DATABASE
from powercast.stack.postgres import EmbeddedPostgres

pytestmark = pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="the embedded server's own set-up")


def _refused_without_password(settings, role: str) -> None:
    with pytest.raises(psycopg2.OperationalError, match="password"):
        psycopg2.connect(
            host=settings.postgres_host, port=settings.postgres_port, user=role, dbname="postgres", connect_timeout=5
        )


def _one(url: str, query: str, args=()):
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(query, args)
            return cur.fetchall()
    finally:
        conn.close()


def test_every_connection_needs_a_password_and_the_app_role_is_no_superuser(postgres):
    assert credentials_file(postgres.resolved_data_dir).stat().st_mode & 0o777 == 0o600
    _refused_without_password(postgres, APP_ROLE)
    _refused_without_password(postgres, "postgres")
    url = postgres.app_database_url
    assert _one(url, "SELECT current_user, rolsuper, rolcreatedb FROM pg_roles WHERE rolname = current_user") == [
        (APP_ROLE, False, False)
    ]
    owners = _one(
        url,
        "SELECT datname, pg_get_userbyid(datdba) FROM pg_database WHERE datname = ANY(%s) ORDER BY 1",
        ([APP_DATABASE, MLFLOW_DATABASE, AIRFLOW_DATABASE],),
    )
    assert owners == sorted((d, APP_ROLE) for d in (APP_DATABASE, MLFLOW_DATABASE, AIRFLOW_DATABASE))
    assert _one(
        url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner <> %s", (APP_ROLE,)
    ) == [(0,)]


def test_a_credentials_file_of_another_cluster_gets_a_clear_error(make_settings):
    settings = make_settings()
    server = EmbeddedPostgres(settings)
    server.start()
    try:
        server.stop()
        path = credentials_file(settings.resolved_data_dir)
        path.write_text(json.dumps({"admin_password": "not-it", "app_password": "not-it-either"}))
        with pytest.raises(PowercastError, match="refused powercast's stored superuser password") as refused:
            server.start()
        assert str(path) in str(refused.value)
    finally:
        server.stop()


def test_a_cluster_that_trusted_local_connections_is_moved_to_passwords_with_its_data(make_settings, monkeypatch):
    settings = make_settings()
    legacy = EmbeddedPostgres(settings)

    def trusting_initdb(self, admin_password, run_as):
        self._pg("initdb", ["-D", str(self.pgdata), "--auth=trust", "--encoding=UTF8", "-U", "postgres"], run_as)

    def superuser_owns_everything(self, credentials):
        conn = connect(f"postgresql://postgres@{settings.postgres_host}:{settings.postgres_port}/postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            for database in (APP_DATABASE, MLFLOW_DATABASE, AIRFLOW_DATABASE):
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        conn.close()

    with monkeypatch.context() as patched:
        patched.setattr(EmbeddedPostgres, "_initdb", trusting_initdb)
        patched.setattr(EmbeddedPostgres, "_set_up_roles", superuser_owns_everything)
        legacy.start()
    old_url = f"postgresql://postgres@{settings.postgres_host}:{settings.postgres_port}/{APP_DATABASE}"
    migrate(old_url)
    ts = datetime(2026, 11, 30, 12, tzinfo=UTC)
    conn = connect(old_url)
    with conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO readings (machine_id, sensor, ts, value, unit, event_id) VALUES ('OLD-1', 'power', %s, 5, "
            "'W', %s)",
            (ts, str(uuid.uuid4())),
        )
    conn.close()
    legacy.stop()

    server = EmbeddedPostgres(settings)
    try:
        server.start()
        _refused_without_password(settings, "postgres")
        _refused_without_password(settings, APP_ROLE)
        url = settings.app_database_url
        assert _one(url, "SELECT machine_id, value FROM readings") == [("OLD-1", 5.0)]
        assert _one(
            url,
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) <> %s",
            (APP_ROLE,),
        ) == [(0,)]
        assert migrate(url) == []  # already migrated, and the application role may read the ledger
        conn = connect(url)
        with conn, conn.cursor() as cur:  # a new day's partition is made by the application role now
            cur.execute(
                "INSERT INTO readings (machine_id, sensor, ts, value, unit, event_id) VALUES ('NEW-1', 'power', "
                "now(), 7, 'W', %s)",
                (str(uuid.uuid4()),),
            )
        conn.close()
        assert "trust" not in [
            line.split()[-1]
            for line in (server.pgdata / "pg_hba.conf").read_text().splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        ]
        server.stop()
        server.start()  # a second start finds nothing left to move
        assert _one(url, "SELECT count(*) FROM readings") == [(2,)]
    finally:
        server.stop()
