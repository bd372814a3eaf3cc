"""Every program a compose service starts exists in its image and accepts the arguments it is given: powercast
subcommands (the project's CLI), MLflow's and Airflow's commands, the scripts the init jobs run line by line,
and the health checks."""

from __future__ import annotations

import pytest

from tests.compose.commands import (
    AIRFLOW_IMAGE_DOCKERFILE,
    POWERCAST_IMAGE_DOCKERFILE,
    CommandLineError,
    Invocation,
    airflow_parse_errors,
    image_of,
    invocations,
    mlflow_cli,
    parse_click,
    powercast_cli,
    service_argv,
)
from tests.compose.project import project

# Programs the official images bring (their health checks) and plain shell utilities the init scripts use.
IMAGE_TOOLS = {"curl", "wget", "pg_isready", "/opt/kafka/bin/kafka-broker-api-versions.sh", "printf"}


@pytest.fixture(scope="module")
def services():
    return project()["services"]


@pytest.fixture(scope="module")
def calls(services) -> list[Invocation]:
    return [call for name, service in services.items() for call in invocations(name, service)]


def _program(calls, name):
    return [c for c in calls if c.argv[0] == name]


def test_every_program_is_one_the_tests_check(calls):
    checked = {"powercast", "mlflow", "airflow", "python"}
    unknown = [c for c in calls if c.argv[0] not in checked | IMAGE_TOOLS]
    assert not unknown, unknown


def test_powercast_subcommands_exist_with_their_options(calls):
    cli = powercast_cli()
    used = _program(calls, "powercast")
    assert {c.where.split(":")[0] for c in used} >= {"init", "simulator", "ingestor", "forecaster", "dash", "alerts"}
    for call in used:
        try:
            parse_click(cli, list(call.argv[1:]), "powercast")
        except CommandLineError as exc:
            pytest.fail(f"{call.where}: `{' '.join(call.argv)}`: {exc}")


def test_the_cli_check_rejects_what_the_cli_rejects():
    cli = powercast_cli()
    for argv in (["no-such-command"], ["ingest", "--no-such-option"], ["db"], ["serve", "--poll"]):
        with pytest.raises(CommandLineError):
            parse_click(cli, argv, "powercast")
    assert parse_click(cli, ["alerts", "serve"], "powercast") == ["powercast", "alerts", "serve"]


def test_mlflow_server_accepts_its_arguments(calls):
    cli = mlflow_cli()
    used = _program(calls, "mlflow")
    assert [c.where for c in used] == ["mlflow: command"]
    for call in used:
        assert parse_click(cli, list(call.argv[1:]), "mlflow") == ["mlflow", "server"]
    with pytest.raises(CommandLineError):
        parse_click(cli, ["server", "--no-such-option"], "mlflow")


def test_airflow_commands_parse(calls, tmp_path):
    used = _program(calls, "airflow")
    assert {c.where.split(":")[0] for c in used} >= {
        "airflow-init",
        "airflow-apiserver",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
    }
    bogus = ["no-such-command"]
    errors = airflow_parse_errors([list(c.argv[1:]) for c in used] + [bogus], tmp_path)
    assert "no-such-command" in errors, "the check must reject an unknown command"
    del errors["no-such-command"]
    assert not errors, errors


def test_python_scripts_are_in_the_image(services, calls):
    for call in _program(calls, "python"):
        service = services[call.where.split(":")[0]]
        image = image_of(service)
        script = call.argv[1]
        if script == "-":  # a here-document
            continue
        assert image is not None and image.image_path(script) is not None, f"{call.where}: {script} not in image"
        assert image.image_path(script).is_file(), f"{call.where}: {script}"


def test_each_image_runs_what_it_was_built_for(services):
    for name, service in services.items():
        image = image_of(service)
        argv = service_argv(service)
        if image is None:
            # official images keep their own entry points (Grafana's `grafana server`, Kafka's, PostgreSQL's)
            assert "command" not in service and "entrypoint" not in service, name
            continue
        if image.path == POWERCAST_IMAGE_DOCKERFILE:
            assert argv[0] in ("powercast", "mlflow", "sh"), (name, argv)
        else:
            assert image.path == AIRFLOW_IMAGE_DOCKERFILE and argv[0] in ("airflow", "bash"), (name, argv)
