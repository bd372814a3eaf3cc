"""The local MLflow tracking server: backend store in PostgreSQL (database `mlflow`), artifacts on disk.

A managed service (`powercast.stack.managed`): ready when `/health` answers; its stop reaches the whole process
group (the uvicorn worker included). With MLFLOW_TRACKING_URI set, that server is used and nothing starts here.

With POWERCAST_MLFLOW_AUTH on, the server runs MLflow's basic-auth app: its users live in the database
`mlflow_auth`, its admin login in `<data_dir>/mlflow-credentials.json` (`powercast.registry.connect` logs in with
it), and its configuration, which holds the database password, in a mode-0600 file under the run directory.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from powercast.config import Settings
from powercast.credentials import APP_ROLE, ensure_mlflow_credentials
from powercast.db.connection import ensure_database, libpq_url
from powercast.errors import PowercastError
from powercast.names import MLFLOW_AUTH_DATABASE, MLFLOW_DATABASE
from powercast.registry import server_answers
from powercast.stack.managed import ManagedService, Port, log_dir, run_dir

MLFLOW_HOST = "127.0.0.1"


@dataclass(frozen=True)
class MlflowPaths:
    root: Path

    @property
    def artifacts(self) -> Path:
        return self.root / "mlflow-artifacts"


def backend_store_uri(settings: Settings, database: str = MLFLOW_DATABASE) -> str:
    """SQLAlchemy URL of one of MLflow's databases: on the embedded server, or beside DATABASE_URL's database."""
    if settings.embedded_postgres:
        url = settings.embedded_database_url(database)
    else:
        parts = urlsplit(libpq_url(settings.database_url))
        url = urlunsplit(parts._replace(path=f"/{database}"))
    scheme, _, rest = url.partition("://")
    return f"postgresql+psycopg2://{rest}"


def auth_config_file(settings: Settings) -> Path:
    return run_dir(settings) / "mlflow-auth.ini"


def write_auth_config(settings: Settings) -> Path:
    """The basic-auth app's configuration (users in `mlflow_auth`; a logged-in user may read everything, only
    the admin and those it grants may change anything), mode 0600: it holds the database password."""
    path = auth_config_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = (
        "[mlflow]\n"
        "default_permission = READ\n"
        f"database_uri = {backend_store_uri(settings, MLFLOW_AUTH_DATABASE).replace('%', '%%')}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.chmod(path, 0o600)
    return path


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
    """The local tracking server: its command, artifacts under `<data_dir>/mlflow-artifacts`, its managed process."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.paths = MlflowPaths(settings.resolved_data_dir)

    @property
    def uri(self) -> str:
        return f"http://{MLFLOW_HOST}:{self.settings.mlflow_port}"

    def service(self) -> ManagedService:
        s = self.settings
        return ManagedService(
            name="mlflow",
            command=self.command,
            run_dir=run_dir(s),
            log_file=log_dir(s) / "mlflow.log",
            url=s.tracking_uri,
            health=lambda: server_answers(s.tracking_uri),
            environment=self._environment,
            ports=(Port(MLFLOW_HOST, s.mlflow_port, "POWERCAST_MLFLOW_PORT"),),
            prepare=self._prepare,
            external=s.mlflow_tracking_uri,
            start_timeout=120.0,
        )

    def _environment(self) -> dict[str, str]:
        s = self.settings
        env = {
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",  # its job runner costs 1.6 GB
            "MLFLOW_BACKEND_STORE_URI": backend_store_uri(s),  # not in argv: it holds the database password
        }
        if s.mlflow_auth:
            login = ensure_mlflow_credentials(s.resolved_data_dir)
            env |= {
                "MLFLOW_AUTH_CONFIG_PATH": str(auth_config_file(s)),
                "MLFLOW_AUTH_ADMIN_USERNAME": login.username,  # used once, when the user store is empty
                "MLFLOW_AUTH_ADMIN_PASSWORD": login.password,
                "MLFLOW_FLASK_SERVER_SECRET_KEY": login.secret_key,
            }
        return env

    def _prepare(self) -> None:
        s = self.settings
        ensure_database(_admin_url(s), MLFLOW_DATABASE)
        if s.mlflow_auth:
            if s.embedded_postgres:  # the application role may not create databases; the superuser may
                ensure_database(s.embedded_database_url("postgres", admin=True), MLFLOW_AUTH_DATABASE, APP_ROLE)
            else:
                ensure_database(_admin_url(s), MLFLOW_AUTH_DATABASE)
            write_auth_config(s)
        self.paths.artifacts.mkdir(parents=True, exist_ok=True)

    def pid(self) -> int | None:
        record = self.service().running()
        return record.pid if record else None

    def command(self) -> list[str]:
        return [
            _mlflow_executable(),
            "server",
            "--artifacts-destination",
            str(self.paths.artifacts),
            "--host",
            MLFLOW_HOST,
            "--port",
            str(self.settings.mlflow_port),
            "--workers",
            "1",
            *(["--app-name", "basic-auth"] if self.settings.mlflow_auth else []),
        ]

    def start(self) -> str:
        """Start the server (a no-op when ours already runs) and return its tracking URI."""
        if self.settings.mlflow_tracking_uri:
            raise PowercastError(
                f"MLFLOW_TRACKING_URI points at {self.settings.mlflow_tracking_uri}",
                "unset it to run the local MLflow server",
            )
        self.service().start()
        return self.uri

    def stop(self) -> bool:
        return self.service().stop()
