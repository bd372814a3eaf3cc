"""Shared fixtures. The heavy ones start a real Kafka broker and a real PostgreSQL once per test session."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from powercast.config import Settings
from powercast.stack.process import free_port

REPO = Path(__file__).resolve().parents[1]


def _isolated_settings(data_dir: Path, **overrides) -> Settings:
    """Settings on free ports and a private data directory; Kafka's jars come from the repo's shared cache."""
    env = {
        "data_dir": data_dir,
        "cache_dir": Path(os.environ.get("POWERCAST_CACHE_DIR", REPO / ".data" / "cache")),
        "kafka_port": free_port(),
        "kafka_controller_port": free_port(),
        "postgres_port": free_port(),
        "mlflow_port": free_port(),
        "serving_port": free_port(),
        "ingest_metrics_port": free_port(),
        "dash_port": free_port(),
        "airflow_port": free_port(),
        "database_url": None,
        "kafka_bootstrap_servers": None,
        "mlflow_tracking_uri": None,
    }
    env.update(overrides)
    return Settings(_env_file=None, **env)


@pytest.fixture(scope="session")
def make_settings():
    """Factory for isolated settings (each call: new ports, new data directory).

    Data directories live outside pytest's temp root: the embedded PostgreSQL runs as another system user
    and needs to traverse the path, and a second pytest session resets that root's permissions.
    """
    root = Path(tempfile.mkdtemp(prefix="powercast-test-"))
    root.chmod(0o755)

    def make(**overrides) -> Settings:
        return _isolated_settings(Path(tempfile.mkdtemp(dir=root)), **overrides)

    yield make
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres(make_settings):
    """A real PostgreSQL, migrated: the embedded server, or DATABASE_URL's when that is set."""
    from powercast.db.migrate import migrate
    from powercast.stack.postgres import EmbeddedPostgres

    external = os.environ.get("DATABASE_URL")
    settings = make_settings(database_url=external) if external else make_settings()
    server = EmbeddedPostgres(settings)
    url = server.start()
    migrate(url)
    yield settings
    server.stop()


@pytest.fixture(scope="session")
def kafka(make_settings):
    """A real single-node Kafka broker with powercast's topics."""
    from powercast.stack.kafka import KafkaBroker
    from powercast.stream.topics import ensure_topics

    settings = make_settings()
    broker = KafkaBroker(settings)
    ensure_topics(broker.start())
    yield settings
    broker.stop()


@pytest.fixture(scope="session")
def services(postgres, kafka):
    """Settings that point at both the session's PostgreSQL and its Kafka broker."""
    return postgres.model_copy(
        update={
            "kafka_port": kafka.kafka_port,
            "kafka_controller_port": kafka.kafka_controller_port,
        }
    )


@pytest.fixture
def db(postgres):
    """A connection to the session's database; rolled back and closed after the test."""
    from powercast.db.connection import connect

    conn = connect(postgres.app_database_url)
    yield conn
    conn.rollback()
    conn.close()


@pytest.fixture(scope="session")
def mlflow_server(postgres):
    """A real MLflow tracking server (backend store: the session's PostgreSQL); started on first use only."""
    from powercast.stack.mlflow import MlflowServer

    server = MlflowServer(postgres)
    uri = server.start()
    yield postgres.model_copy(update={"mlflow_tracking_uri": uri})
    server.stop()


@pytest.fixture(scope="session")
def mlflow(mlflow_server):
    """Settings pointing at the session's PostgreSQL and MLflow server (tracking_uri set)."""
    return mlflow_server


@pytest.fixture
def isolated_mlflow_env():
    """MLflow's set_tracking_uri also exports MLFLOW_TRACKING_URI; put the variable back as it was."""
    from tests.mlops.env import restored_env

    with restored_env("MLFLOW_TRACKING_URI"):
        yield
