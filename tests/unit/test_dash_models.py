"""The Models page's actions (role checks on the server side, Airflow unavailable) and the Airflow REST client,
against a tiny fake Airflow API server."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dash_app.airflow import AirflowClient, AirflowUnavailable, DagRun
from dash_app.data.models import poll_run, run_action
from powercast.feedback.users import User
from powercast.stack.process import free_port

OPERATOR = User(1, "olga", "operator")
ADMIN = User(2, "ada", "admin")


class FakeAirflow(BaseHTTPRequestHandler):
    """POST /auth/token, POST /api/v2/dags/{id}/dagRuns, GET /api/v2/dags/{id}/dagRuns/{run}: what powercast uses."""

    runs: dict = {}
    calls: list = []

    def log_message(self, *args):  # keep the test output clean
        pass

    def _send(self, code: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> dict:
        return json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")

    def do_POST(self):
        body = self._body()
        self.calls.append(("POST", self.path, body, self.headers.get("Authorization")))
        if self.path == "/auth/token":
            if body == {"username": "admin", "password": "secret"}:
                return self._send(201, {"access_token": "tok-1", "token_type": "bearer"})
            return self._send(401, {"detail": "Invalid credentials"})
        if self.headers.get("Authorization") != "Bearer tok-1":
            return self._send(401, {"detail": "Not authenticated"})
        parts = self.path.strip("/").split("/")
        if parts[:3] == ["api", "v2", "dags"] and parts[4:] == ["dagRuns"]:
            if parts[3] not in ("train_models", "promote_model"):
                return self._send(404, {"detail": f"The Dag with dag_id: `{parts[3]}` was not found"})
            if "logical_date" not in body:
                return self._send(422, {"detail": "logical_date is required"})
            run_id = f"manual__{len(self.runs)}"
            self.runs[(parts[3], run_id)] = ["queued", "running", "success"]
            return self._send(200, {"dag_run_id": run_id, "dag_id": parts[3], "state": "queued"})
        return self._send(404, {"detail": "not found"})

    def do_GET(self):
        self.calls.append(("GET", self.path, None, self.headers.get("Authorization")))
        parts = self.path.strip("/").split("/")
        states = self.runs.get((parts[3], parts[5])) if len(parts) == 6 else None
        if states is None:
            return self._send(404, {"detail": "not found"})
        state = states.pop(0) if len(states) > 1 else states[0]
        return self._send(200, {"dag_run_id": parts[5], "state": state})


@pytest.fixture
def airflow_url():
    FakeAirflow.runs, FakeAirflow.calls = {}, []
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), FakeAirflow)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_client_gets_a_token_starts_a_run_and_follows_it(airflow_url):
    client = AirflowClient(airflow_url, "admin", "secret")
    run = client.trigger("train_models", conf={"triggered_by": "dash:ada"})
    assert run == DagRun("train_models", "manual__0", "queued")
    token_calls = [c for c in FakeAirflow.calls if c[1] == "/auth/token"]
    assert len(token_calls) == 1
    post = FakeAirflow.calls[-1]
    assert post[1] == "/api/v2/dags/train_models/dagRuns" and post[3] == "Bearer tok-1"
    assert post[2]["logical_date"] is None and post[2]["conf"] == {"triggered_by": "dash:ada"}
    states = [client.run("train_models", run.run_id).state for _ in range(3)]
    assert states == ["queued", "running", "success"]
    assert client.run("train_models", run.run_id).finished


def test_client_errors_say_what_is_wrong(airflow_url):
    with pytest.raises(AirflowUnavailable, match="401"):
        AirflowClient(airflow_url, "admin", "wrong").trigger("train_models")
    with pytest.raises(AirflowUnavailable, match="404"):
        AirflowClient(airflow_url, "admin", "secret").trigger("no_such_dag")
    with pytest.raises(AirflowUnavailable, match="does not answer"):
        AirflowClient(f"http://127.0.0.1:{free_port()}", "admin", "secret", timeout=1).trigger("train_models")
    with pytest.raises(AirflowUnavailable, match="password"):
        AirflowClient(airflow_url, "admin", None).trigger("train_models")


class Recorder:
    def __init__(self, fail: bool = False):
        self.fail, self.calls = fail, []

    def trigger(self, dag_id, conf=None, note=None):
        self.calls.append((dag_id, conf))
        if self.fail:
            raise AirflowUnavailable("Airflow does not answer at http://127.0.0.1:1")
        return DagRun(dag_id, "manual__1", "queued")

    def run(self, dag_id, run_id):
        return DagRun(dag_id, run_id, "success")


@pytest.mark.parametrize("action", ["train", "promote", "rollback"])
def test_an_operator_is_refused_before_anything_starts(action):
    airflow, rolled = Recorder(), []
    result = run_action(action, OPERATOR, airflow, rolled.append)
    assert not result.ok and "Only admins" in result.message
    assert airflow.calls == [] and rolled == []
    assert not run_action(action, None, airflow, rolled.append).ok and airflow.calls == []


def test_an_admin_starts_dag_runs_and_rolls_back():
    airflow = Recorder()
    train = run_action("train", ADMIN, airflow, lambda who: "")
    assert train.ok and train.run["dag_id"] == "train_models" and train.run["run_id"] == "manual__1"
    assert run_action("promote", ADMIN, airflow, lambda who: "").run["dag_id"] == "promote_model"
    assert airflow.calls[0] == ("train_models", {"triggered_by": "dash:ada"})
    rollback = run_action("rollback", ADMIN, airflow, lambda who: f"rolled back by {who}")
    assert rollback.ok and rollback.message == "rolled back by dash:ada" and rollback.run is None
    assert poll_run(train.run, airflow) == ("train_models run manual__1: success", True)


def test_without_airflow_the_page_names_the_cli_command():
    result = run_action("train", ADMIN, Recorder(fail=True), lambda who: "")
    assert not result.ok and "Airflow is not available" in result.message and "`powercast train`" in result.message
    result = run_action("promote", ADMIN, Recorder(fail=True), lambda who: "")
    assert "`powercast promote`" in result.message
