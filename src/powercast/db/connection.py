"""Connections to PostgreSQL with errors that say what to check."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import psycopg2
from psycopg2 import sql

from powercast.errors import PowercastError


def redact(url: str) -> str:
    """The URL with its password replaced, for messages and logs."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def libpq_url(url: str) -> str:
    """Accept SQLAlchemy-style URLs (postgresql+psycopg2://) too."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme.split('+')[0]}{sep}{rest}"


def connect(url: str, *, connect_timeout: int = 5, **kwargs):
    try:
        return psycopg2.connect(libpq_url(url), connect_timeout=connect_timeout, **kwargs)
    except psycopg2.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "connection failed"
        raise PowercastError(
            f"cannot reach PostgreSQL at {redact(url)} ({reason})",
            "start it with `powercast db start`, or fix DATABASE_URL",
        ) from exc


def ensure_database(admin_url: str, database: str, owner: str | None = None) -> bool:
    """Create `database` on the server behind `admin_url` if it is missing (owned by `owner`, else by the role
    `admin_url` logs in as); True when it was created."""
    conn = connect(admin_url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
            if cur.fetchone():
                return False
            create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database))
            if owner:
                create = sql.SQL("{} OWNER {}").format(create, sql.Identifier(owner))
            cur.execute(create)
            return True
    finally:
        conn.close()
