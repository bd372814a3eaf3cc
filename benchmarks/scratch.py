"""A scratch embedded PostgreSQL for benchmarks: free port, temporary data directory, removed afterwards."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def scratch_postgres(prefix: str) -> Iterator[str]:
    """The URL of a started, empty embedded PostgreSQL; stopped and its data directory removed on exit."""
    from powercast.config import Settings
    from powercast.stack.postgres import EmbeddedPostgres
    from powercast.stack.process import free_port

    with tempfile.TemporaryDirectory(prefix=prefix) as data_dir:
        Path(data_dir).chmod(0o755)  # the embedded PostgreSQL runs as another user when started as root
        settings = Settings(_env_file=None, data_dir=data_dir, postgres_port=free_port(), database_url=None)
        server = EmbeddedPostgres(settings)
        try:
            yield server.start()
        finally:
            server.stop()
