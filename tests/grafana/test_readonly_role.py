"""Grafana's role reads exactly the tables its dashboards and rules need and cannot write anything."""

from __future__ import annotations

import psycopg2
import pytest
from typer.testing import CliRunner

from grafana.generator.queries import tables_read
from powercast.monitoring.alerts_role import grafana_url, set_grafana_password
from powercast.names import GRAFANA_ROLE
from tests.grafana.conftest import PASSWORD

WRITES = [
    "INSERT INTO readings (machine_id, sensor, ts, value, unit, event_id) "
    "VALUES ('X', 'power', now(), 1, 'W', gen_random_uuid())",
    "UPDATE machines SET site = 'x'",
    "DELETE FROM forecasts",
    "TRUNCATE dead_letters",
    "CREATE TABLE grafana_was_here (x int)",
    "CREATE TEMP TABLE grafana_was_here (x int)",
    "CREATE INDEX ON readings (value)",
    "DROP TABLE readings",
    "ALTER TABLE machines ADD COLUMN x int",
    "INSERT INTO alerts (fingerprint, starts_at, status, alertname) VALUES ('x', now(), 'firing', 'x')",
    "SELECT * FROM alerts",
    "SELECT * FROM schema_migrations",
    "SELECT nextval('dead_letters_id_seq')",
]


@pytest.mark.parametrize("statement", WRITES)
def test_the_reader_cannot_write_nor_read_other_tables(grafana_fleet, statement):
    conn = grafana_fleet.reader()
    try:
        with pytest.raises(psycopg2.Error), conn.cursor() as cur:
            cur.execute(statement)
    finally:
        conn.close()


@pytest.mark.parametrize("statement", WRITES[:5])
def test_writes_stay_refused_when_the_session_asks_for_read_write(grafana_fleet, statement):
    conn = grafana_fleet.reader()
    conn.autocommit = True  # so the next statements run in transactions of their own
    try:
        with conn.cursor() as cur:
            cur.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE")
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute(statement)
    finally:
        conn.close()


def test_select_is_granted_on_exactly_the_tables_the_queries_read(grafana_fleet):
    conn = grafana_fleet.admin()
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'v', 'm', 'p') "
                "AND has_table_privilege(%s, c.oid, 'SELECT')",
                (GRAFANA_ROLE,),
            )
            readable = {name for (name,) in cur.fetchall()}
            cur.execute(
                "SELECT DISTINCT privilege_type FROM information_schema.role_table_grants WHERE grantee = %s",
                (GRAFANA_ROLE,),
            )
            privileges = {p for (p,) in cur.fetchall()}
            cur.execute("SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = %s", (GRAFANA_ROLE,))
            assert cur.fetchone() == (False, False, False)
    finally:
        conn.close()
    assert readable == tables_read()
    assert privileges == {"SELECT"}


def _refused(url: str) -> None:
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        psycopg2.connect(url, connect_timeout=5)


def test_the_command_sets_the_password_from_the_setting(grafana_fleet):
    """The server asks for passwords (SCRAM), so the old one is refused and the new one logs in."""
    from powercast.cli import app

    psycopg2.connect(grafana_url(grafana_fleet.admin_url, PASSWORD), connect_timeout=5).close()
    env = {"DATABASE_URL": grafana_fleet.admin_url, "POWERCAST_GRAFANA_DB_PASSWORD": "from-the-setting"}
    try:
        result = CliRunner().invoke(app, ["alerts", "grafana-password"], env=env)
        assert result.exit_code == 0, result.output
        assert "POWERCAST_GRAFANA_DB_HOST=" in result.output and "from-the-setting" not in result.output
        psycopg2.connect(grafana_url(grafana_fleet.admin_url, "from-the-setting"), connect_timeout=5).close()
        _refused(grafana_url(grafana_fleet.admin_url, PASSWORD))
    finally:
        set_grafana_password(grafana_fleet.admin_url, PASSWORD)
    _refused(grafana_url(grafana_fleet.admin_url, "from-the-setting"))


def test_without_the_setting_the_command_says_what_to_set(grafana_fleet):
    from powercast.cli import app

    env = {"DATABASE_URL": grafana_fleet.admin_url, "POWERCAST_GRAFANA_DB_PASSWORD": ""}
    result = CliRunner().invoke(app, ["alerts", "grafana-password"], env=env)
    assert result.exit_code != 0
    assert "POWERCAST_GRAFANA_DB_PASSWORD" in str(result.exception)
