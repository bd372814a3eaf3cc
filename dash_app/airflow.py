"""A small client of Airflow's REST API v2: get a token, start a DAG run, read its state.

Training and promotion run as Airflow DAG runs (`train_models`, `promote_model`). When Airflow does not answer,
the client raises `AirflowUnavailable` and the Models page shows the CLI command to run instead.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from powercast.config import Settings

FINISHED = ("success", "failed")
PASSWORD_FILE = "simple_auth_manager_passwords.json.generated"


class AirflowUnavailable(Exception):
    """Airflow did not answer, refused the credentials, or does not know the DAG."""


@dataclass(frozen=True)
class DagRun:
    dag_id: str
    run_id: str
    state: str

    @property
    def finished(self) -> bool:
        return self.state in FINISHED


class AirflowClient:
    def __init__(self, base_url: str, username: str, password: str | None, timeout: float = 5.0):
        self.base_url = base_url.rstrip("/")
        self.username, self.password, self.timeout = username, password, timeout
        self._token: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> AirflowClient:
        return cls(settings.airflow_base_url, settings.airflow_username, _password(settings))

    def _request(self, method: str, path: str, body: dict | None = None, auth: bool = True) -> dict:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token()}"
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(f"{self.base_url}{path}", data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            if exc.code == 401 and auth:
                self._token = None
            detail = exc.read().decode("utf-8", "replace")[:200]
            raise AirflowUnavailable(f"Airflow answered {exc.code} to {method} {path}: {detail}") from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise AirflowUnavailable(f"Airflow does not answer at {self.base_url} ({exc})") from exc

    def token(self) -> str:
        """A bearer token from POST /auth/token (cached until Airflow refuses it)."""
        if self._token is None:
            if not self.password:
                raise AirflowUnavailable("no Airflow password configured (POWERCAST_AIRFLOW_PASSWORD)")
            answer = self._request(
                "POST", "/auth/token", {"username": self.username, "password": self.password}, auth=False
            )
            self._token = answer.get("access_token")
            if not self._token:
                raise AirflowUnavailable("Airflow's /auth/token gave no access_token")
        return self._token

    def trigger(self, dag_id: str, conf: dict | None = None, note: str | None = None) -> DagRun:
        """Start a run of `dag_id` now (POST /api/v2/dags/{dag_id}/dagRuns)."""
        answer = self._request(
            "POST", f"/api/v2/dags/{quote(dag_id)}/dagRuns", {"logical_date": None, "conf": conf or {}, "note": note}
        )
        return DagRun(dag_id, str(answer["dag_run_id"]), str(answer.get("state") or "queued"))

    def run(self, dag_id: str, run_id: str) -> DagRun:
        """The run's current state (GET /api/v2/dags/{dag_id}/dagRuns/{run_id})."""
        answer = self._request("GET", f"/api/v2/dags/{quote(dag_id)}/dagRuns/{quote(run_id, safe='')}")
        return DagRun(dag_id, run_id, str(answer.get("state") or "unknown"))


def _password(settings: Settings) -> str | None:
    """The configured password, else the one Airflow's simple auth manager generated under the data directory."""
    if settings.airflow_password:
        return settings.airflow_password
    for path in (settings.resolved_data_dir / "airflow" / PASSWORD_FILE, Path.home() / "airflow" / PASSWORD_FILE):
        try:
            return json.loads(path.read_text()).get(settings.airflow_username)
        except (OSError, ValueError):
            continue
    return None
