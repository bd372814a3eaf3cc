"""`powercast status`: every part of the system with its URL, probe result, uptime and restarts; `--json` for
scripts; a failed service with the last lines of its log."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from powercast.cli import app
from powercast.stack import supervision
from powercast.stack.managed import log_dir, run_dir
from powercast.stack.process import free_port
from powercast.stack.records import write_json_atomically

NAMES = ["postgres", "kafka", "mlflow", "airflow", "supervisor", "ingest", "simulate", "serve", "dash"]
FIELDS = {
    "name",
    "url",
    "state",
    "healthy",
    "pid",
    "uptime_s",
    "restarts",
    "last_exit",
    "log_file",
    "last_log_lines",
}


def _env(tmp_path) -> dict[str, str]:
    ports = ["KAFKA", "KAFKA_CONTROLLER", "POSTGRES", "MLFLOW", "AIRFLOW", "DASH", "SERVING", "INGEST_METRICS"]
    env = {f"POWERCAST_{p}_PORT": str(free_port()) for p in ports}
    return {**env, "POWERCAST_DATA_DIR": str(tmp_path)}


@pytest.fixture(autouse=True)
def no_external_services(monkeypatch):
    """Every part local (an outer environment may point at external servers)."""
    for key in ("DATABASE_URL", "MLFLOW_TRACKING_URI", "POWERCAST_KAFKA_BOOTSTRAP_SERVERS", "POWERCAST_AIRFLOW_URL"):
        monkeypatch.delenv(key, raising=False)


def _settings(env):
    from powercast.config import Settings

    return Settings(_env_file=None, data_dir=env["POWERCAST_DATA_DIR"])


def test_json_lists_every_part_with_its_probe(tmp_path):
    env = _env(tmp_path)
    result = CliRunner().invoke(app, ["status", "--json"], env=env)

    assert result.exit_code == 1  # nothing runs: PostgreSQL, Kafka and MLflow do not answer
    report = json.loads(result.output)
    assert report["ok"] is False
    assert [s["name"] for s in report["services"]] == NAMES
    for service in report["services"]:
        assert set(service) == FIELDS
        assert service["state"] == "stopped" and service["healthy"] is False and service["pid"] is None
    urls = {s["name"]: s["url"] for s in report["services"]}
    assert urls["dash"] == f"http://127.0.0.1:{env['POWERCAST_DASH_PORT']}"
    assert urls["kafka"] == f"127.0.0.1:{env['POWERCAST_KAFKA_PORT']}"


def test_a_failed_service_is_shown_with_the_end_of_its_log(tmp_path):
    env = _env(tmp_path)
    s = _settings(env)
    log_dir(s).mkdir(parents=True)
    (log_dir(s) / "ingest.log").write_text("".join(f"line {i}\n" for i in range(20)) + "Traceback: boom\n")
    run_dir(s).mkdir(parents=True)
    state = supervision.ServiceState(state="failed", restarts=5, last_exit="exited with status 1 after 0 s")
    write_json_atomically(run_dir(s) / supervision.STATE_FILE, {"services": {"ingest": state.__dict__}})

    as_json = CliRunner().invoke(app, ["status", "--json"], env=env)
    ingest = next(r for r in json.loads(as_json.output)["services"] if r["name"] == "ingest")
    assert ingest["state"] == "failed" and ingest["restarts"] == 5
    assert ingest["last_log_lines"][-2:] == ["line 19", "Traceback: boom"]

    text = CliRunner().invoke(app, ["status"], env=env)
    assert text.exit_code == 1
    [line] = [line for line in text.output.splitlines() if line.startswith("ingest")]
    assert "failed" in line and "5 restart(s)" in line and "exited with status 1" in line
    assert "| Traceback: boom" in text.output


def test_a_closed_kafka_port_is_refused_without_a_metadata_request(monkeypatch):
    """A broker that is down must not cost `status` the metadata request's whole timeout."""
    import confluent_kafka.admin

    from powercast.stack.kafka import broker_answers

    def no_admin_client(*args, **kwargs):
        raise AssertionError("a closed port needs no metadata request")

    monkeypatch.setattr(confluent_kafka.admin, "AdminClient", no_admin_client)
    assert broker_answers(f"127.0.0.1:{free_port()}") is False
    assert broker_answers(f"bad-address,127.0.0.1:{free_port()}") is False
