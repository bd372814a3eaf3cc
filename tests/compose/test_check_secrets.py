"""docker/check_secrets.py, the init job's first step: development secrets pass in development and are refused
in production, by name and never by value."""

from __future__ import annotations

import importlib.util
import secrets

import pytest
from cryptography.fernet import Fernet

from tests.compose.project import ENV_EXAMPLE, REPO, env_file

spec = importlib.util.spec_from_file_location("check_secrets", REPO / "docker" / "check_secrets.py")
check_secrets = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_secrets)

DEVELOPMENT = check_secrets.development_secrets(ENV_EXAMPLE.read_text(encoding="utf-8"))


def strong_secrets() -> dict[str, str]:
    values = {name: secrets.token_hex(16) for name in DEVELOPMENT}
    values["POWERCAST_AIRFLOW_FERNET_KEY"] = Fernet.generate_key().decode()
    return values


def test_the_example_names_every_kind_of_secret():
    assert {"POWERCAST_DB_PASSWORD", "POWERCAST_AIRFLOW_FERNET_KEY", "POWERCAST_AIRFLOW_JWT_SECRET"} <= set(DEVELOPMENT)
    assert "POWERCAST_ADMIN_USER" not in DEVELOPMENT and "POWERCAST_BIND_ADDRESS" not in DEVELOPMENT
    assert all(DEVELOPMENT.values())


def test_development_values_pass_in_development():
    assert check_secrets.problems(env_file(), DEVELOPMENT) == []


def test_production_refuses_every_development_value_by_name():
    env = {**env_file(), "POWERCAST_DEPLOYMENT": "production"}
    found = check_secrets.problems(env, DEVELOPMENT)
    assert len(found) == len(DEVELOPMENT)
    for name, value in DEVELOPMENT.items():
        assert any(line.startswith(f"{name} ") and "development value" in line for line in found), name
        assert not any(value in line for line in found), "a message must not show the secret"


def test_production_accepts_new_strong_values():
    assert check_secrets.problems({**strong_secrets(), "POWERCAST_DEPLOYMENT": "production"}, DEVELOPMENT) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"POWERCAST_GRAFANA_ADMIN_PASSWORD": ""}, "POWERCAST_GRAFANA_ADMIN_PASSWORD is not set"),
        ({"POWERCAST_ADMIN_PASSWORD": "short-but-new"}, "POWERCAST_ADMIN_PASSWORD is shorter than 16"),
        ({"POWERCAST_AIRFLOW_JWT_SECRET": None}, "POWERCAST_AIRFLOW_JWT_SECRET is not set"),
    ],
)
def test_production_names_the_weak_secret(change, message):
    env = {**strong_secrets(), "POWERCAST_DEPLOYMENT": "production", **change}
    env = {k: v for k, v in env.items() if v is not None}
    found = check_secrets.problems(env, DEVELOPMENT)
    assert len(found) == 1 and found[0].startswith(message), found


def test_database_password_must_fit_in_a_url_in_every_deployment():
    found = check_secrets.problems({**env_file(), "POWERCAST_DB_PASSWORD": "p@ss/word"}, DEVELOPMENT)
    assert len(found) == 1 and "POWERCAST_DB_PASSWORD" in found[0] and "p@ss" not in found[0]


def test_fernet_key_must_be_one():
    assert check_secrets.is_fernet_key(DEVELOPMENT["POWERCAST_AIRFLOW_FERNET_KEY"])
    found = check_secrets.problems({**env_file(), "POWERCAST_AIRFLOW_FERNET_KEY": "not-a-key"}, DEVELOPMENT)
    assert len(found) == 1 and "Fernet" in found[0]


def test_main_exits_2_naming_the_variables(capsys):
    assert check_secrets.main([str(ENV_EXAMPLE)], {**env_file(), "POWERCAST_DEPLOYMENT": "production"}) == 2
    err = capsys.readouterr().err
    assert "POWERCAST_DB_PASSWORD" in err and "docker/README.md" in err
    assert check_secrets.main([str(ENV_EXAMPLE)], env_file()) == 0
    assert "development" in capsys.readouterr().out
