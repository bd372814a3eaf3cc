"""The local MLflow tracking server: backend store in PostgreSQL (database `mlflow`), artifacts on disk.

Started like the embedded broker: a detached process in a session of its own, a pid file, a wait until
`/health` answers, and a stop that reaches the whole process group (gunicorn/uvicorn workers included).
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from powercast.config import Settings
from powercast.db.connection import ensure_database, libpq_url
from powercast.errors import PowercastError
from powercast.names import MLFLOW_DATABASE
from powercast.registry import server_answers
from powercast.stack import process

MLFLOW_HOST = "127.0.0.1"


@dataclass(frozen=True)
class MlflowPaths:
    root: Path

    @property
    def artifacts(self) -> Path:
        return self.root / "mlflow-artifacts"

    @property
    def pid_file(self) -> Path:
        return self.root / "mlflow" / "mlflow.pid"

    @property
    def log_file(self) -> Path:
        return self.root / "mlflow" / "mlflow.log"


def backend_store_uri(settings: Settings) -> str:
    """SQLAlchemy URL of MLflow's own database: on the embedded server, or beside DATABASE_URL's database."""
    if settings.embedded_postgres:
        url = settings.embedded_database_url(MLFLOW_DATABASE)
    else:
        parts = urlsplit(libpq_url(settings.database_url))
        url = urlunsplit(parts._replace(path=f"/{MLFLOW_DATABASE}"))
    scheme, _, rest = url.partition("://")
    return f"postgresql+psycopg2://{rest}"


def _admin_url(settings: Settings) -> str:
    parts = urlsplit(backend_store_uri(settings).replace("postgresql+psycopg2://", "postgresql://", 1))
    return urlunsplit(parts._replace(path="/postgres"))


def _mlflow_executable() -> str:
    beside = Path(sys.executable).with_name("mlflow")
    found = str(beside) if beside.exists() else shutil.which("mlflow")
    if not found:
        raise PowercastError(
            "the `mlflow` command was not found", "install the project's dependencies (make bootstrap)"
        )
    return found


class MlflowServer:
    """Start, stop and inspect the local tracking server under `<data_dir>/mlflow`."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.paths = MlflowPaths(settings.resolved_data_dir)

    @property
    def uri(self) -> str:
        return f"http://{MLFLOW_HOST}:{self.settings.mlflow_port}"

    def pid(self) -> int | None:
        return process.read_pid(self.paths.pid_file)

    def command(self) -> list[str]:
        return [
            _mlflow_executable(),
            "server",
            "--backend-store-uri",
            backend_store_uri(self.settings),
            "--artifacts-destination",
            str(self.paths.artifacts),
            "--host",
            MLFLOW_HOST,
            "--port",
            str(self.settings.mlflow_port),
            "--workers",
            "1",
        ]

    def start(self, timeout: float = 120.0) -> str:
        """Start the server (a no-op when ours already runs) and return its tracking URI."""
        if self.settings.mlflow_tracking_uri:
            raise PowercastError(
                f"MLFLOW_TRACKING_URI points at {self.settings.mlflow_tracking_uri}",
                "unset it to run the local MLflow server",
            )
        pid = self.pid()
        if pid is not None:
            if not server_answers(self.uri, timeout=10):
                raise PowercastError(
                    f"an MLflow server from {self.paths.pid_file.parent} runs (pid {pid}) "
                    f"but does not answer at {self.uri}",
                    "run `powercast mlflow stop`, then start again",
                )
            return self.uri
        process.require_free_port(MLFLOW_HOST, self.settings.mlflow_port, "POWERCAST_MLFLOW_PORT")
        ensure_database(_admin_url(self.settings), MLFLOW_DATABASE)
        self.paths.artifacts.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
        proc = process.start_detached(
            self.command(), log_file=self.paths.log_file, pid_file=self.paths.pid_file, env=env
        )
        process.wait_until(
            lambda: server_answers(self.uri),
            timeout=timeout,
            what="MLflow server",
            alive=lambda: proc.poll() is None,
            log_file=self.paths.log_file,
        )
        return self.uri

    def stop(self, timeout: float = 30.0) -> bool:
        return process.stop_pid_file(self.paths.pid_file, timeout=timeout)
