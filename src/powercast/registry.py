"""The MLflow model registry as powercast uses it: one registered model, versions found by alias."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime

from powercast.config import Settings
from powercast.errors import PowercastError
from powercast.names import REGISTERED_MODEL


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
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


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


def load_forecaster_model(version: str):
    """The registered pyfunc's own python model (`powercast.scoring.model.ForecasterModel`)."""
    import mlflow.pyfunc

    loaded = mlflow.pyfunc.load_model(f"models:/{REGISTERED_MODEL}/{version}")
    return loaded.unwrap_python_model()


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
