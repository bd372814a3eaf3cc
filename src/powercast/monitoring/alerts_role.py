"""The read-only role Grafana's data source logs in as: its password, and the environment Grafana needs.

Migration 0006 creates the role without a password; `set_grafana_password` gives it the one from the setting
POWERCAST_GRAFANA_DB_PASSWORD, which Grafana's data source provisioning reads from the same variable.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from psycopg2 import sql

from powercast.config import Settings
from powercast.db.connection import connect, libpq_url
from powercast.errors import PowercastError
from powercast.names import GRAFANA_ROLE


def grafana_password(settings: Settings) -> str:
    secret = settings.grafana_db_password
    if secret is None or not secret.get_secret_value():
        raise PowercastError(
            "no password for Grafana's database role", "set POWERCAST_GRAFANA_DB_PASSWORD (in .env or the environment)"
        )
    return secret.get_secret_value()


def set_grafana_password(database_url: str, password: str) -> None:
    """Give the read-only role a password (and LOGIN); the migrations must have run."""
    conn = connect(database_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (GRAFANA_ROLE,))
            if cur.fetchone() is None:
                raise PowercastError(
                    f"role {GRAFANA_ROLE} does not exist", "apply the schema with `powercast db migrate`"
                )
            cur.execute(
                sql.SQL("ALTER ROLE {} WITH LOGIN PASSWORD %s").format(sql.Identifier(GRAFANA_ROLE)), (password,)
            )
    finally:
        conn.close()


def grafana_url(database_url: str, password: str) -> str:
    """The app database's URL as the read-only role sees it (what Grafana's data source connects to)."""
    parts = urlsplit(libpq_url(database_url))
    host = parts.hostname or "127.0.0.1"
    port = f":{parts.port}" if parts.port else ""
    return parts._replace(netloc=f"{GRAFANA_ROLE}:{quote(password, safe='')}@{host}{port}").geturl()


def grafana_environment(settings: Settings) -> dict[str, str]:
    """The variables Grafana's provisioning files read, for the database and webhook of these settings."""
    parts = urlsplit(libpq_url(settings.app_database_url))
    return {
        "POWERCAST_GRAFANA_DB_HOST": f"{parts.hostname or '127.0.0.1'}:{parts.port or 5432}",
        "POWERCAST_GRAFANA_DB_NAME": parts.path.lstrip("/") or "postgres",
        "POWERCAST_GRAFANA_DB_PASSWORD": "<the value of POWERCAST_GRAFANA_DB_PASSWORD>",
        "POWERCAST_ALERTS_PORT": str(settings.alerts_port),
    }
