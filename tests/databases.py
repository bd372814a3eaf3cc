"""Extra databases on the session's PostgreSQL, for tests that need one of their own."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from powercast.config import Settings
from powercast.credentials import APP_ROLE
from powercast.db.connection import ensure_database


def database_url(settings: Settings, name: str) -> str:
    """The application role's URL of database `name` on the server of `settings`."""
    return urlunsplit(urlsplit(settings.app_database_url)._replace(path=f"/{name}"))


def create_database(settings: Settings, name: str) -> str:
    """Create database `name` if it is missing, owned by the application role, and return its URL. On the embedded
    server the superuser creates it (the application role may not); on `DATABASE_URL`'s, that URL's role."""
    if settings.embedded_postgres:
        ensure_database(settings.embedded_database_url("postgres", admin=True), name, owner=APP_ROLE)
    else:
        ensure_database(settings.app_database_url, name)
    return database_url(settings, name)
