"""Generated passwords: made once, kept in the data directory, readable by their owner only.

The embedded server authenticates every connection with SCRAM. Two roles log in: `postgres`, the superuser that
owns the cluster and creates databases, and `powercast`, the application role (no superuser, owner of powercast's
databases) that every service uses. Their passwords live in `<data_dir>/postgres-credentials.json`.

With POWERCAST_MLFLOW_AUTH on, the local MLflow server runs its basic-auth app; the admin login it is created
with, and the key it signs its forms with, live in `<data_dir>/mlflow-credentials.json`. Both files: mode 0600.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TypeVar

from powercast.errors import PowercastError

FILE_NAME = "postgres-credentials.json"
MLFLOW_FILE_NAME = "mlflow-credentials.json"
ADMIN_ROLE = "postgres"
APP_ROLE = "powercast"
MLFLOW_ADMIN = "admin"


@dataclass(frozen=True)
class PostgresCredentials:
    admin_password: str
    app_password: str


@dataclass(frozen=True)
class MlflowCredentials:
    username: str
    password: str
    secret_key: str


Stored = TypeVar("Stored", PostgresCredentials, MlflowCredentials)


def credentials_file(data_dir: Path) -> Path:
    return data_dir / FILE_NAME


def mlflow_credentials_file(data_dir: Path) -> Path:
    return data_dir / MLFLOW_FILE_NAME


def load_credentials(data_dir: Path) -> PostgresCredentials | None:
    """The stored PostgreSQL passwords, or None before the embedded server was first set up."""
    return _load(credentials_file(data_dir), PostgresCredentials)


def ensure_credentials(data_dir: Path) -> PostgresCredentials:
    """The stored PostgreSQL passwords, generated and written on first use."""
    return _ensure(
        credentials_file(data_dir),
        PostgresCredentials,
        lambda: PostgresCredentials(secrets.token_urlsafe(24), secrets.token_urlsafe(24)),
    )


def load_mlflow_credentials(data_dir: Path) -> MlflowCredentials | None:
    """The local MLflow server's admin login, or None before it first ran with authentication."""
    return _load(mlflow_credentials_file(data_dir), MlflowCredentials)


def ensure_mlflow_credentials(data_dir: Path) -> MlflowCredentials:
    """The local MLflow server's admin login and form key, generated and written on first use."""
    return _ensure(
        mlflow_credentials_file(data_dir),
        MlflowCredentials,
        lambda: MlflowCredentials(MLFLOW_ADMIN, secrets.token_urlsafe(24), secrets.token_urlsafe(32)),
    )


def _load(path: Path, kind: type[Stored]) -> Stored | None:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise PowercastError(
            f"cannot read {path} ({exc.strerror})",
            "run powercast as the user that owns the data directory, or set POWERCAST_DATA_DIR to your own",
        ) from exc
    try:
        return kind(**json.loads(text))
    except (ValueError, TypeError) as exc:
        raise PowercastError(
            f"{path} is not a powercast credentials file",
            "restore it from a backup, or remove the data directory (powercast down --purge) to start afresh",
        ) from exc


def _ensure(path: Path, kind: type[Stored], make) -> Stored:
    """The stored credentials at `path`, or new ones from `make()` written there (mode 0600, never wider)."""
    found = _load(path, kind)
    if found is not None:
        os.chmod(path, 0o600)
        return found
    path.parent.mkdir(parents=True, exist_ok=True)
    made = make()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # a second `up` wrote it first
        return _ensure(path, kind, make)
    with os.fdopen(fd, "w") as out:
        json.dump(asdict(made), out)
    return made
