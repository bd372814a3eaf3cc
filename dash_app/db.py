"""A small pool of PostgreSQL connections shared by the callbacks (Dash serves requests on threads)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from psycopg2.pool import ThreadedConnectionPool

from powercast.db.connection import connect, libpq_url


class Database:
    """`with db.connection() as conn:` lends a connection; it is rolled back (never left in a transaction) and
    returned to the pool afterwards, or discarded when it broke."""

    def __init__(self, url: str, maxconn: int = 8):
        connect(url).close()  # fail early with powercast's one-line message when the server is down
        self.url = url
        self._pool = ThreadedConnectionPool(1, maxconn, libpq_url(url), connect_timeout=5)

    @contextmanager
    def connection(self) -> Iterator:
        conn = self._pool.getconn()
        broken = False
        try:
            yield conn
        except Exception:
            broken = bool(conn.closed)
            raise
        finally:
            if not conn.closed:
                conn.rollback()
            self._pool.putconn(conn, close=broken or bool(conn.closed))

    def close(self) -> None:
        self._pool.closeall()
