"""The MLflow model registry as powercast uses it: one registered model, versions found by alias."""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from powercast.config import Settings
from powercast.db.connection import connect as db_connect
from powercast.errors import PowercastError
from powercast.names import MODEL_DIGESTS_TABLE, REGISTERED_MODEL


@dataclass(frozen=True)
class VersionRef:
    """A registered model version as the rest of powercast needs it."""

    version: str
    run_id: str | None
    tags: dict[str, str]

    @property
    def uri(self) -> str:
        return f"models:/{REGISTERED_MODEL}/{self.version}"


def server_answers(uri: str, timeout: float = 2.0) -> bool:
    """True when an MLflow server at `uri` answers `/health` (only http and https URIs name a server)."""
    if not uri.startswith(("http://", "https://")):
        return False
    try:
        with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=timeout) as response:  # noqa: S310 - scheme checked above
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def connect(settings: Settings):
    """An MlflowClient on the configured tracking server; a one-line error when it does not answer."""
    import mlflow
    from mlflow import MlflowClient

    uri = settings.tracking_uri
    if uri.startswith("http") and not server_answers(uri, timeout=5):
        raise PowercastError(
            f"the MLflow server at {uri} does not answer",
            "start it with `powercast mlflow start` or set MLFLOW_TRACKING_URI",
        )
    log_in(settings)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def log_in(settings: Settings) -> None:
    """With POWERCAST_MLFLOW_AUTH on, hand the local server's admin login to MLflow's client, which reads it from
    MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD only; a login already set there is kept."""
    from powercast.credentials import load_mlflow_credentials, mlflow_credentials_file

    if not settings.mlflow_auth or os.environ.get("MLFLOW_TRACKING_USERNAME"):
        return
    login = load_mlflow_credentials(settings.resolved_data_dir)
    if login is None:
        raise PowercastError(
            f"POWERCAST_MLFLOW_AUTH is on but {mlflow_credentials_file(settings.resolved_data_dir)} does not exist",
            "start the local server once with it on (powercast mlflow start), or set MLFLOW_TRACKING_USERNAME and "
            "MLFLOW_TRACKING_PASSWORD",
        )
    os.environ["MLFLOW_TRACKING_USERNAME"] = login.username
    os.environ["MLFLOW_TRACKING_PASSWORD"] = login.password


def version_by_alias(client, alias: str) -> VersionRef | None:
    """The version holding `alias`, or None when the alias (or the registered model) does not exist."""
    from mlflow.exceptions import MlflowException

    try:
        mv = client.get_model_version_by_alias(REGISTERED_MODEL, alias)
    except MlflowException as exc:
        if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE", "NOT_FOUND"):
            return None
        raise
    return VersionRef(str(mv.version), mv.run_id, dict(mv.tags or {}))


def get_version(client, version: str) -> VersionRef:
    mv = client.get_model_version(REGISTERED_MODEL, str(version))
    return VersionRef(str(mv.version), mv.run_id, dict(mv.tags or {}))


def set_alias(client, alias: str, version: str) -> None:
    client.set_registered_model_alias(REGISTERED_MODEL, alias, str(version))


def delete_alias(client, alias: str) -> None:
    """Remove `alias` if it exists."""
    from mlflow.exceptions import MlflowException

    try:
        client.delete_registered_model_alias(REGISTERED_MODEL, alias)
    except MlflowException:
        pass


def tag_version(client, version: str, tags: dict[str, object]) -> None:
    for key, value in tags.items():
        client.set_model_version_tag(REGISTERED_MODEL, str(version), key, "" if value is None else str(value))


class UntrustedVersion(PowercastError):
    """A model version whose artifacts do not hash to the digest training recorded (or that has none)."""


def artifact_digest(root: Path) -> str:
    """SHA-256 over every file under `root`: its relative path, its size and its bytes, in path order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(f"{path.relative_to(root).as_posix()}\0{path.stat().st_size}\0".encode())
        with path.open("rb") as file:
            for chunk in iter(lambda: file.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def _download(version: str, into: Path) -> Path:
    import mlflow.artifacts

    uri = f"models:/{REGISTERED_MODEL}/{version}"
    return Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(into)))


def record_digest(settings: Settings, version: str, run_id: str | None) -> str:
    """Hash the registered version's artifacts and record the digest in PostgreSQL (training calls this right
    after it registers a version: only versions recorded here are ever loaded)."""
    with tempfile.TemporaryDirectory(prefix="powercast-model-") as tmp:
        value = artifact_digest(_download(version, Path(tmp)))
    conn = db_connect(settings.app_database_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                f"""INSERT INTO {MODEL_DIGESTS_TABLE} (registered_model, version, run_id, digest)
                    VALUES (%s, %s, %s, %s)
                    ON CONFLICT (registered_model, version)
                    DO UPDATE SET run_id = EXCLUDED.run_id, digest = EXCLUDED.digest, recorded_at = now()""",  # noqa: S608 - the table name is a code constant (powercast.names); values are bound parameters
                (REGISTERED_MODEL, str(version), run_id, value),
            )
    finally:
        conn.close()
    return value


def recorded_digest(settings: Settings, version: str) -> str | None:
    conn = db_connect(settings.app_database_url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                f"SELECT digest FROM {MODEL_DIGESTS_TABLE} WHERE registered_model = %s AND version = %s",  # noqa: S608 - the table name is a code constant (powercast.names); values are bound parameters
                (REGISTERED_MODEL, str(version)),
            )
            row = cur.fetchone()
    finally:
        conn.close()
    return row[0] if row else None


def load_forecaster_model(settings: Settings, version: str):
    """The registered pyfunc's own python model (`powercast.scoring.model.ForecasterModel`), loaded only when
    its downloaded artifacts hash to the digest training recorded; `UntrustedVersion` otherwise.

    The check comes before anything is unpickled: a pickled model runs code as it loads.
    """
    import mlflow.pyfunc

    expected = recorded_digest(settings, version)
    if expected is None:
        raise UntrustedVersion(
            f"{REGISTERED_MODEL} version {version} has no digest recorded by training, so it is not loaded",
            "versions registered by hand are refused; register models with `powercast train`",
        )
    with tempfile.TemporaryDirectory(prefix="powercast-model-") as tmp:
        local = _download(version, Path(tmp))
        found = artifact_digest(local)
        if found != expected:
            raise UntrustedVersion(
                f"{REGISTERED_MODEL} version {version}'s artifacts hash to {found[:12]}…, "
                f"not to the {expected[:12]}… training recorded, so it is not loaded",
                "the version was changed after registration; retrain with `powercast train`",
            )
        return mlflow.pyfunc.load_model(str(local)).unwrap_python_model()


def latest_data_end(client) -> datetime | None:
    """The end of the training data (`data_end` tag) of the newest registered version, None when none has one."""
    from mlflow.exceptions import MlflowException

    try:
        versions = client.search_model_versions(f"name = '{REGISTERED_MODEL}'")
    except MlflowException:
        return None
    ends = [v.tags.get("data_end") for v in sorted(versions, key=lambda v: int(v.version), reverse=True)]
    found = next((end for end in ends if end), None)
    return datetime.fromisoformat(found) if found else None
