"""The embedded PostgreSQL's generated passwords: made once, kept in the data directory, readable by its owner only.

The embedded server authenticates every connection with SCRAM. Two roles log in: `postgres`, the superuser that
owns the cluster and creates databases, and `powercast`, the application role (no superuser, owner of powercast's
databases) that every service uses. Their passwords live in `<data_dir>/postgres-credentials.json`, mode 0600.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from powercast.errors import PowercastError

FILE_NAME = "postgres-credentials.json"
ADMIN_ROLE = "postgres"
APP_ROLE = "powercast"


@dataclass(frozen=True)
class PostgresCredentials:
    admin_password: str
    app_password: str


def credentials_file(data_dir: Path) -> Path:
    return data_dir / FILE_NAME


def load_credentials(data_dir: Path) -> PostgresCredentials | None:
    """The stored passwords, or None before the embedded server was first set up."""
    path = credentials_file(data_dir)
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
        return PostgresCredentials(**json.loads(text))
    except (ValueError, TypeError) as exc:
        raise PowercastError(
            f"{path} is not a powercast credentials file",
            "restore it from a backup, or remove the data directory (powercast down --purge) to start afresh",
        ) from exc


def ensure_credentials(data_dir: Path) -> PostgresCredentials:
    """The stored passwords, generated and written (mode 0600, never wider) on first use."""
    found = load_credentials(data_dir)
    if found is not None:
        os.chmod(credentials_file(data_dir), 0o600)
        return found
    data_dir.mkdir(parents=True, exist_ok=True)
    made = PostgresCredentials(secrets.token_urlsafe(24), secrets.token_urlsafe(24))
    try:
        fd = os.open(credentials_file(data_dir), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # a second `up` wrote it first
        return ensure_credentials(data_dir)
    with os.fdopen(fd, "w") as out:
        json.dump(asdict(made), out)
    return made
