"""Every variable a service's code reads is set, and set to where the other services are: the Settings each
powercast service builds from its environment, Airflow's configuration against the one the local runtime gives
Airflow, the variables Grafana's provisioning files read, and the ones the init scripts read."""

from __future__ import annotations

import importlib.util
import re
from urllib.parse import urlsplit

import pytest

from powercast.config import Settings
from powercast.stack.airflow import Airflow
from tests.compose.commands import image_of, invocations, parse_click, powercast_cli, service_argv
from tests.compose.project import (
    COMPOSE_FILE,
    DOCKER_README,
    ENV_EXAMPLE,
    REPO,
    env_file,
    environment,
    project,
    script_commands,
    variables_in,
)

# What each powercast command reaches through its settings; `endpoints` must resolve to a compose service.
NEEDS = {
    ("db", "migrate"): {"app_database_url"},
    ("kafka", "topics"): {"bootstrap_servers"},
    ("alerts", "grafana-password"): {"app_database_url", "grafana_db_password"},
    ("users", "add"): {"app_database_url"},
    ("simulate",): {"bootstrap_servers", "app_database_url"},
    ("ingest",): {"bootstrap_servers", "app_database_url"},
    ("serve",): {"app_database_url", "tracking_uri"},
    ("dash",): {"app_database_url", "tracking_uri", "airflow_base_url", "airflow_password"},
    ("alerts", "serve"): {"app_database_url"},
}
# The port setting each long-running command listens on.
LISTENS_ON = {("serve",): "serving_port", ("dash",): "dash_port", ("ingest",): "ingest_metrics_port"}
LISTENS_ON[("alerts", "serve")] = "alerts_port"

# Keys of the local runtime's Airflow environment that compose leaves to the image on purpose.
AIRFLOW_LOCAL_ONLY = {
    "AIRFLOW_HOME": "the image's /opt/airflow",
    "AIRFLOW__API__HOST": "the image's api-server listens on 0.0.0.0 in its container",
    "AIRFLOW__API__PORT": "8080 inside the container; the host port is POWERCAST_AIRFLOW_PORT",
    "AIRFLOW__API__BASE_URL": "the URL a browser uses depends on the host; Airflow derives it",
    "AIRFLOW__LOGGING__BASE_LOG_FOLDER": "the image's /opt/airflow/logs, a named volume",
    "PATH": "the image's",
    "PYTHONPATH": "powercast is installed in the image",
    "POWERCAST_AIRFLOW_PORT": "the local API server's port; the tasks do not read it",
}


def settings_names() -> set[str]:
    names = set()
    for name, field in Settings.model_fields.items():
        names.update(getattr(field.validation_alias, "choices", None) or [f"POWERCAST_{name.upper()}"])
    return names


@pytest.fixture(scope="module")
def services():
    return project()["services"]


def full_environment(service: dict) -> dict[str, str]:
    """What the container's processes see: the image's ENV, then the service's environment."""
    image = image_of(service)
    return {**(image.env if image else {}), **environment(service)}


def settings_of(service: dict, monkeypatch) -> Settings:
    import os

    for key in list(os.environ):
        if key.startswith("POWERCAST_") or key in ("DATABASE_URL", "MLFLOW_TRACKING_URI"):
            monkeypatch.delenv(key)
    for key, value in full_environment(service).items():
        monkeypatch.setenv(key, value)
    return Settings(_env_file=None)


def powercast_commands(services) -> list[tuple[str, tuple[str, ...]]]:
    """(service, command path) of every powercast call, init script lines included."""
    cli, found = powercast_cli(), []
    for name, service in services.items():
        for call in invocations(name, service):
            if call.argv[0] == "powercast":
                found.append((name, tuple(parse_click(cli, list(call.argv[1:]), "powercast")[1:])))
    return found


def test_every_powercast_command_has_its_needs_listed(services):
    unlisted = {path for _, path in powercast_commands(services)} - NEEDS.keys()
    assert not unlisted, f"add these commands to NEEDS: {unlisted}"


def _service_address(services, url_host: str, url_port: int | None) -> tuple[str, int]:
    assert url_host in services, f"{url_host} is not a compose service"
    return url_host, url_port


def test_settings_reach_the_compose_services(services, monkeypatch):
    mlflow_port = int(service_argv(services["mlflow"])[service_argv(services["mlflow"]).index("--port") + 1])
    advertised = environment(services["kafka"])["KAFKA_ADVERTISED_LISTENERS"]
    for name, path in powercast_commands(services):
        s = settings_of(services[name], monkeypatch)
        for need in NEEDS[path]:
            where = f"{name} ({' '.join(path)}) reads {need}"
            if need == "app_database_url":
                url = urlsplit(s.app_database_url)
                assert (url.hostname, url.port or 5432, url.path) == ("postgres", 5432, "/powercast"), where
                assert url.password, where
            elif need == "bootstrap_servers":
                assert f"PLAINTEXT://{s.bootstrap_servers}" in advertised.split(","), where
            elif need == "tracking_uri":
                url = urlsplit(s.tracking_uri)
                assert (url.hostname, url.port) == ("mlflow", mlflow_port), where
            elif need == "airflow_base_url":
                url = urlsplit(s.airflow_base_url)
                assert url.hostname == "airflow-apiserver" and url.port == 8080, where
            else:
                value = getattr(s, need)
                value = value.get_secret_value() if hasattr(value, "get_secret_value") else value
                assert value, where


def test_listening_ports_match_what_compose_publishes_and_probes(services, monkeypatch):
    checked = set()
    for name, path in powercast_commands(services):
        if path not in LISTENS_ON:
            continue
        service = services[name]
        port = getattr(settings_of(service, monkeypatch), LISTENS_ON[path])
        probe = " ".join(service["healthcheck"]["test"])
        assert f"127.0.0.1:{port}/" in probe, (name, port, probe)
        targets = {str(p).rsplit(":", 1)[-1] for p in service.get("ports") or []} | set(service.get("expose") or [])
        if name != "alerts":  # it lives in Grafana's network namespace, reachable only from there
            assert targets == {str(port)}, (name, port, targets)
        checked.add(name)
    assert checked == {"forecaster", "dash", "ingestor", "alerts"}


def test_alerts_receiver_is_where_grafana_posts(services, monkeypatch):
    provisioning = (REPO / "grafana" / "provisioning" / "alerting" / "powercast.yaml").read_text()
    url = re.search(r"url: (http://\S+/grafana/alerts)", provisioning).group(1)
    assert url.startswith("http://127.0.0.1:${POWERCAST_ALERTS_PORT}/")
    alerts = services["alerts"]
    assert alerts["network_mode"] == "service:grafana"  # Grafana's 127.0.0.1 is the receiver's
    grafana_port = environment(services["grafana"])["POWERCAST_ALERTS_PORT"]
    assert str(settings_of(alerts, monkeypatch).alerts_port) == grafana_port


def test_only_real_settings_are_set(services):
    """A misspelt POWERCAST_ variable would be ignored silently by Settings (extra="ignore")."""
    known = settings_names()
    for name, service in services.items():
        image = image_of(service)
        if image is None or image.path.name != "Dockerfile":
            continue
        allowed = known | script_variables(name, service) | set(development_secrets())
        allowed.add("POWERCAST_SQL_DIR")  # `powercast db migrate --sql-dir`'s envvar
        unknown = {
            key
            for key in full_environment(service)
            if (key.startswith("POWERCAST_") or key in ("DATABASE_URL", "MLFLOW_TRACKING_URI")) and key not in allowed
        }
        assert not unknown, f"{name}: {unknown} are not settings of powercast.config.Settings"


def script_variables(name: str, service: dict) -> set[str]:
    """Variables the shell script a service runs reads (`$VAR`, `${VAR}`), with those of the Python scripts and
    here-documents it runs (`environ["VAR"]`, `environ.get("VAR"`)."""
    argv = service_argv(service)
    if not argv or argv[0] not in ("sh", "bash"):
        return set()
    image = image_of(service)
    text = image.image_path(argv[1]).read_text(encoding="utf-8")
    found = set(re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", text))
    python = [text] + [
        image.image_path(words[1]).read_text(encoding="utf-8")
        for words in script_commands(text)
        if words[0] == "python" and len(words) > 1 and words[1] != "-"
    ]
    for source in python:
        found |= set(re.findall(r"environ(?:\.get\(|\[)\s*\"(\w+)\"", source))
    return found


def test_scripts_find_their_variables(services):
    checked = 0
    for name, service in services.items():
        wanted = script_variables(name, service)
        checked += bool(wanted)
        missing = wanted - full_environment(service).keys()
        assert not missing, f"{name}'s script reads {missing}"
    assert checked == 2  # init and airflow-init


def development_secrets() -> dict[str, str]:
    spec = importlib.util.spec_from_file_location("check_secrets", REPO / "docker" / "check_secrets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.development_secrets(ENV_EXAMPLE.read_text(encoding="utf-8"))


def test_init_checks_every_secret_compose_uses(services):
    secrets = development_secrets()
    used = {v for v in variables_in(COMPOSE_FILE.read_text()) if re.search(r"_(PASSWORD|SECRET|KEY)$", v)}
    assert used == set(secrets), "every secret of docker-compose.yml has a development value in the example"
    assert set(secrets) <= environment(services["init"]).keys(), "the init job sees every secret it checks"


def test_variables_are_documented_and_used():
    in_compose = variables_in(COMPOSE_FILE.read_text())
    in_example = set(env_file())
    readme = DOCKER_README.read_text(encoding="utf-8")
    assert in_compose == in_example, (in_compose - in_example, in_example - in_compose)
    undocumented = {v for v in in_compose if f"`{v}`" not in readme}
    assert not undocumented, f"describe {undocumented} in docker/README.md"


def test_airflow_gets_what_the_local_runtime_gives_it(services, tmp_path, monkeypatch):
    monkeypatch.setenv("POWERCAST_DATA_DIR", str(tmp_path))
    local = Airflow(Settings(_env_file=None)).environment()
    airflow_services = [n for n in services if n.startswith("airflow-")]
    assert len(airflow_services) == 5
    for name in airflow_services:
        env = full_environment(services[name])
        missing = set(local) - set(env) - set(AIRFLOW_LOCAL_ONLY)
        assert not missing, f"{name} lacks {missing}"
        assert env["AIRFLOW__CORE__EXECUTOR"] == local["AIRFLOW__CORE__EXECUTOR"]
        assert urlsplit(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]).path == "/airflow"
        assert urlsplit(env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"]).hostname == "airflow-apiserver"
        assert env["AIRFLOW_CONN_POWERCAST_DB"] == env["DATABASE_URL"]
        assert env["AIRFLOW__CORE__DAGS_FOLDER"].endswith("/dags")
        dags = image_of(services[name]).image_path(env["AIRFLOW__CORE__DAGS_FOLDER"])
        assert dags == REPO / "dags"
        plugins = image_of(services[name]).image_path(env["AIRFLOW__CORE__PLUGINS_FOLDER"])
        assert plugins == REPO / "plugins"


def test_grafana_finds_every_variable_its_provisioning_reads(services):
    provisioning = REPO / "grafana" / "provisioning"
    read = set()
    for path in provisioning.rglob("*"):
        if path.is_file():
            read |= variables_in(path.read_text(encoding="utf-8"))
    read -= {"GF_PATHS_PROVISIONING"}  # set by the Grafana image to where the provisioning is mounted
    assert read, "the provisioning reads its database and webhook settings from the environment"
    env = environment(services["grafana"])
    assert read <= env.keys(), read - env.keys()
    assert "/etc/grafana/provisioning" in {v.split(":")[1] for v in services["grafana"]["volumes"]}
    host, _, port = env["POWERCAST_GRAFANA_DB_HOST"].partition(":")
    database = urlsplit(environment(services["init"])["DATABASE_URL"])
    assert (host, int(port), env["POWERCAST_GRAFANA_DB_NAME"]) == (database.hostname, database.port, "powercast")
    assert env["POWERCAST_GRAFANA_DB_PASSWORD"] == environment(services["init"])["POWERCAST_GRAFANA_DB_PASSWORD"]
