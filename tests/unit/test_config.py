from pathlib import Path

import pytest

from powercast.config import Settings, load_settings
from powercast.errors import SettingsError


def test_defaults_point_at_embedded_services(monkeypatch, tmp_path):
    for var in ("DATABASE_URL", "POWERCAST_DATABASE_URL", "POWERCAST_KAFKA_BOOTSTRAP_SERVERS", "MLFLOW_TRACKING_URI"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    s = Settings(_env_file=None)
    assert s.embedded_postgres and s.embedded_kafka
    assert s.bootstrap_servers == "127.0.0.1:9092"
    # before the embedded server was first set up there is no password to give
    assert s.app_database_url == "postgresql://powercast@127.0.0.1:5433/powercast"
    assert s.tracking_uri == "http://127.0.0.1:5000"


def test_environment_overrides(monkeypatch, tmp_path):
    monkeypatch.delenv("POWERCAST_CACHE_DIR", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db:5432/x")
    monkeypatch.setenv("POWERCAST_KAFKA_BOOTSTRAP_SERVERS", "kafka:9092")
    monkeypatch.setenv("POWERCAST_DATA_DIR", str(tmp_path))
    s = Settings(_env_file=None)
    assert not s.embedded_postgres and s.app_database_url == "postgresql://u:p@db:5432/x"
    assert not s.embedded_kafka and s.bootstrap_servers == "kafka:9092"
    assert s.resolved_data_dir == tmp_path.resolve()
    assert s.resolved_cache_dir == (tmp_path / "cache").resolve()


def test_env_example_documents_every_setting():
    example = (Path(__file__).resolve().parents[2] / ".env.example").read_text()
    for name, field in Settings.model_fields.items():
        aliases = getattr(field.validation_alias, "choices", None) or [f"POWERCAST_{name.upper()}"]
        assert any(alias in example for alias in aliases), f"{name} missing from .env.example"


@pytest.mark.parametrize(
    ("variable", "value", "form"),
    [
        ("DATABASE_URL", "foo", "a PostgreSQL URL like postgresql://"),
        ("POWERCAST_DATABASE_URL", "mysql://h/db", "a PostgreSQL URL like postgresql://"),
        ("POWERCAST_KAFKA_PORT", "abc", "a valid integer"),
        ("POWERCAST_DRIFT_SHARE", "lots", "a valid number"),
        ("POWERCAST_SERVING_MAX_READINGS", "0", "a number greater than 0"),
        ("POWERCAST_KAFKA_BOOTSTRAP_SERVERS", "kafka", "HOST:PORT"),
    ],
)
def test_a_bad_setting_names_its_variable_and_expected_form(monkeypatch, variable, value, form):
    for var in ("DATABASE_URL", "POWERCAST_DATABASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None)
    assert str(caught.value).startswith(f"bad setting {variable}: expected {form}")
    assert "\n" not in str(caught.value)


def test_good_urls_and_servers_are_accepted(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg2://u:p@db:5432/x")
    monkeypatch.setenv("POWERCAST_KAFKA_BOOTSTRAP_SERVERS", "k1:9092, k2:9092")
    s = load_settings(_env_file=None)
    assert s.database_url.startswith("postgresql+psycopg2://") and s.bootstrap_servers == "k1:9092, k2:9092"


def test_a_secret_value_is_not_echoed(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "mysql://admin:hunter2@db/x")
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None)
    assert "hunter2" not in str(caught.value)


def test_embedded_urls_carry_the_stored_passwords(tmp_path):
    from powercast.credentials import credentials_file, ensure_credentials

    stored = ensure_credentials(tmp_path)
    assert credentials_file(tmp_path).stat().st_mode & 0o777 == 0o600
    assert ensure_credentials(tmp_path) == stored  # made once
    s = Settings(_env_file=None, data_dir=tmp_path, database_url=None)
    assert s.app_database_url == f"postgresql://powercast:{stored.app_password}@127.0.0.1:5433/powercast"
    assert s.embedded_database_url("postgres", admin=True) == (
        f"postgresql://postgres:{stored.admin_password}@127.0.0.1:5433/postgres"
    )
    assert stored.admin_password != stored.app_password and len(stored.app_password) >= 32


def test_an_unreadable_credentials_file_is_a_clear_error(tmp_path):
    from powercast.credentials import credentials_file, load_credentials
    from powercast.errors import PowercastError

    credentials_file(tmp_path).mkdir()  # reading it fails with an OSError other than "not found", as root too
    with pytest.raises(PowercastError, match="cannot read .*postgres-credentials.json"):
        load_credentials(tmp_path)
