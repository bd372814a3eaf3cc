"""The local MLflow server with its basic authentication (POWERCAST_MLFLOW_AUTH): nobody gets in without the
generated login, powercast's own client logs in with it, and no secret lands in argv or a readable file."""

from __future__ import annotations

import base64
import os
import shutil
import stat
import urllib.error
import urllib.request

import psutil
import pytest

from powercast import registry
from powercast.credentials import FILE_NAME, load_mlflow_credentials, mlflow_credentials_file
from powercast.names import REGISTERED_MODEL
from powercast.registry import server_answers
from powercast.stack.mlflow import MlflowServer, auth_config_file
from powercast.stack.process import free_port
from tests.mlops.env import restored_env

pytestmark = pytest.mark.skipif(
    os.environ.get("DATABASE_URL") is not None,
    reason="uses the embedded server's generated credentials",
)


@pytest.fixture(scope="module")
def authed(postgres, tmp_path_factory):
    """A second local MLflow server, with authentication, on the session's PostgreSQL (its own data directory,
    holding a copy of the PostgreSQL credentials file)."""
    data_dir = tmp_path_factory.mktemp("mlflow-auth")
    data_dir.chmod(0o755)
    shutil.copy(postgres.resolved_data_dir / FILE_NAME, data_dir / FILE_NAME)
    settings = postgres.model_copy(
        update={"data_dir": data_dir, "mlflow_port": free_port(), "mlflow_auth": True, "mlflow_tracking_uri": None}
    )
    server = MlflowServer(settings)
    server.start()
    yield settings
    server.stop()


def _get(url: str, login: tuple[str, str] | None = None) -> int:
    request = urllib.request.Request(url)
    if login:
        token = base64.b64encode(f"{login[0]}:{login[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_requests_without_the_login_are_refused(authed):
    uri = f"http://127.0.0.1:{authed.mlflow_port}"
    login = load_mlflow_credentials(authed.resolved_data_dir)
    search = f"{uri}/api/2.0/mlflow/experiments/search?max_results=5"
    assert server_answers(uri)  # /health stays open for probes
    assert _get(search) == 401
    assert _get(search, (login.username, "not-the-password")) == 401
    assert _get(search, (login.username, login.password)) == 200


def test_powercast_client_logs_in_and_may_move_aliases(authed):
    with restored_env("MLFLOW_TRACKING_USERNAME"), restored_env("MLFLOW_TRACKING_PASSWORD"):
        os.environ.pop("MLFLOW_TRACKING_USERNAME", None)
        with restored_env("MLFLOW_TRACKING_URI"):
            settings = authed.model_copy(update={"mlflow_tracking_uri": f"http://127.0.0.1:{authed.mlflow_port}"})
            client = registry.connect(settings)
            client.create_registered_model(REGISTERED_MODEL)
            assert [m.name for m in client.search_registered_models()] == [REGISTERED_MODEL]
            assert registry.version_by_alias(client, "champion") is None


def test_no_secret_in_argv_and_files_are_private(authed):
    login = load_mlflow_credentials(authed.resolved_data_dir)
    pid = MlflowServer(authed).pid()
    assert pid is not None
    argv = " ".join(psutil.Process(pid).cmdline())
    assert "--app-name basic-auth" in argv
    assert login.password not in argv and "postgresql" not in argv
    for path in (mlflow_credentials_file(authed.resolved_data_dir), auth_config_file(authed)):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_missing_login_file_is_a_clear_error(make_settings):
    settings = make_settings(mlflow_auth=True)
    with restored_env("MLFLOW_TRACKING_USERNAME"):
        os.environ.pop("MLFLOW_TRACKING_USERNAME", None)
        with pytest.raises(registry.PowercastError, match="mlflow-credentials.json does not exist"):
            registry.log_in(settings)
