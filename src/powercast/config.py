"""Settings read from environment variables (and an optional `.env` file).

Every variable is prefixed `POWERCAST_`, except `DATABASE_URL` and `MLFLOW_TRACKING_URI`, which keep the
names their ecosystems use. Settings are built at an entry point and passed down; nothing reads the
environment at import time.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from powercast.errors import SettingsError

POSTGRES_SCHEMES = ("postgresql", "postgres")
DATABASE_URL_FORM = "a PostgreSQL URL like postgresql://USER:PASSWORD@HOST:5432/DATABASE"
BOOTSTRAP_FORM = "HOST:PORT, or several separated by commas"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="POWERCAST_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_by_name=True,
        validate_by_alias=True,
    )

    data_dir: Path = Field(Path(".data"), description="Where all local state lives (databases, Kafka logs, artifacts).")
    cache_dir: Path | None = Field(None, description="Downloaded artifacts (Kafka jars); default <data_dir>/cache.")

    # Kafka
    kafka_host: str = Field("127.0.0.1", description="Address the embedded broker listens on.")
    kafka_port: int = Field(9092, description="Client port of the embedded broker.")
    kafka_controller_port: int = Field(9093, description="KRaft controller port of the embedded broker.")
    kafka_bootstrap_servers: str | None = Field(
        None, description="Bootstrap servers of an external cluster; unset means the embedded broker."
    )
    kafka_version: str = Field("4.4.0", description="Apache Kafka version fetched from Maven Central.")
    kafka_heap: str = Field("512m", description="JVM heap of the embedded broker.")
    kafka_retention_hours: int = Field(
        168,
        gt=0,
        description="How long Kafka keeps powercast's records (retention of its topics; default 7 days).",
    )

    # PostgreSQL
    database_url: str | None = Field(
        None,
        validation_alias=AliasChoices("DATABASE_URL", "POWERCAST_DATABASE_URL"),
        description="An existing PostgreSQL server to use; unset means the embedded server.",
    )
    postgres_host: str = Field("127.0.0.1", description="Address the embedded PostgreSQL listens on.")
    postgres_port: int = Field(5433, description="Port of the embedded PostgreSQL.")

    # Services
    mlflow_tracking_uri: str | None = Field(
        None,
        validation_alias=AliasChoices("MLFLOW_TRACKING_URI", "POWERCAST_MLFLOW_TRACKING_URI"),
        description="MLflow tracking server; unset means the local one on mlflow_port.",
    )
    mlflow_port: int = Field(5000, description="Port of the local MLflow server.")
    mlflow_auth: bool = Field(
        False,
        description="Run the local MLflow server with its basic authentication (user admin, password generated "
        "into <data_dir>/mlflow-credentials.json); powercast's own clients log in with it.",
    )
    airflow_port: int = Field(8080, description="Port of the local Airflow API server and UI.")
    airflow_dags_folder: Path | None = Field(
        None, description="Folder of the Airflow DAGs; default the repository's dags/ (plugins/ beside it)."
    )
    airflow_parallelism: int = Field(4, description="Airflow task slots (LocalExecutor worker processes).")
    retrain_after_minutes: int = Field(
        720, description="New feature minutes per machine since the last training that start `train_models`."
    )
    drift_window_hours: float = Field(24.0, description="The recent window a drift report compares.")
    drift_share: float = Field(0.15, description="Share of drifted input features that asks for retraining.")
    drift_error_ratio: float = Field(
        1.5, description="Matured-forecast MAE over the champion's cross-validation MAE that asks for retraining."
    )
    dash_port: int = Field(8050, description="Port of the Dash control center.")
    serving_port: int = Field(8000, description="Port of the forecasting service.")
    serving_max_body_bytes: int = Field(
        4 * 1024 * 1024, gt=0, description="Largest request body the forecasting service reads (413 above it)."
    )
    serving_max_readings: int = Field(
        50_000, gt=0, description="Most readings one forecast request may carry (413 above it)."
    )
    serving_max_concurrent_forecasts: int = Field(
        2, gt=0, description="Forecast requests read, parsed and scored at once; more wait for a free slot."
    )
    serving_forecast_wait_s: float = Field(
        5.0, ge=0, description="Seconds a forecast request waits for a free slot before it gets 503."
    )
    api_token: SecretStr | None = Field(
        None,
        description="Token the forecasting API requires (`Authorization: Bearer <token>`); needed to listen beyond "
        "loopback. Unset: no authentication, loopback only.",
    )
    api_allowed_hosts: str = Field(
        "",
        description="Host names the forecasting API answers besides localhost, 127.0.0.1, [::1] and its bind "
        "address (comma-separated; * allows any); other Host headers get 400 (DNS rebinding).",
    )
    ingest_metrics_port: int = Field(9108, description="Port of the ingestor's Prometheus /metrics endpoint.")
    readings_retention_days: int = Field(
        0,
        ge=0,
        description="Days of readings kept: older daily partitions are dropped by the ingestor at start and by "
        "the feature job (0 keeps everything).",
    )

    # Grafana and alerts
    alerts_port: int = Field(
        9110, description="Port of the receiver of Grafana's alert webhook (`powercast alerts serve`)."
    )
    grafana_db_password: SecretStr | None = Field(
        None,
        description="Password of the read-only role Grafana connects as; `powercast alerts grafana-password` sets it.",
    )

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        scheme, sep, rest = (value or "").partition("://")
        if value is not None and not (sep and rest and scheme.split("+")[0] in POSTGRES_SCHEMES):
            raise ValueError(f"expected {DATABASE_URL_FORM}")
        return value

    @field_validator("kafka_bootstrap_servers")
    @classmethod
    def _host_ports(cls, value: str | None) -> str | None:
        if value is not None:
            for server in value.split(","):
                host, sep, port = server.strip().rpartition(":")
                if not (sep and host and port.isdigit()):
                    raise ValueError(f"expected {BOOTSTRAP_FORM}")
        return value

    @property
    def bootstrap_servers(self) -> str:
        return self.kafka_bootstrap_servers or f"{self.kafka_host}:{self.kafka_port}"

    @property
    def kafka_retention_ms(self) -> int:
        return self.kafka_retention_hours * 3600 * 1000

    @property
    def embedded_kafka(self) -> bool:
        return self.kafka_bootstrap_servers is None

    @property
    def embedded_postgres(self) -> bool:
        return self.database_url is None

    @property
    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @property
    def resolved_cache_dir(self) -> Path:
        return (self.cache_dir or self.data_dir / "cache").expanduser().resolve()

    def embedded_database_url(self, database: str, *, admin: bool = False) -> str:
        """URL of `database` on the embedded server as the application role (or, `admin`, the superuser), with the
        password from the data directory (none before the server was first set up)."""
        from powercast.credentials import ADMIN_ROLE, APP_ROLE, load_credentials

        stored = load_credentials(self.resolved_data_dir)
        role = ADMIN_ROLE if admin else APP_ROLE
        password = (stored.admin_password if admin else stored.app_password) if stored else None
        login = f"{role}:{quote(password, safe='')}" if password else role
        return f"postgresql://{login}@{self.postgres_host}:{self.postgres_port}/{database}"

    @property
    def app_database_url(self) -> str:
        from powercast.names import APP_DATABASE

        return self.database_url or self.embedded_database_url(APP_DATABASE)

    @property
    def tracking_uri(self) -> str:
        return self.mlflow_tracking_uri or f"http://127.0.0.1:{self.mlflow_port}"

    # The control center (dash_app) and the labels it collects
    airflow_url: str | None = Field(
        None,
        description="Base URL of an existing Airflow's API server (`up` then starts none); unset: the local one.",
    )
    airflow_username: str = Field("admin", description="User the control center starts DAG runs as.")
    airflow_password: str | None = Field(
        None,
        description="That user's password; unset: the one Airflow generated under <data_dir>/airflow.",
    )
    dash_session_hours: float = Field(8.0, gt=0, description="How long a control-center login lasts.")
    feedback_model_wrong_weight: float = Field(
        3.0, ge=1.0, description="Training weight of target minutes inside forecasts labelled model_wrong."
    )

    @property
    def airflow_base_url(self) -> str:
        return (self.airflow_url or f"http://127.0.0.1:{self.airflow_port}").rstrip("/")


def load_settings(**overrides) -> Settings:
    """The settings from the environment; a bad one raises SettingsError naming its variable and expected form."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError("; ".join(_describe(error) for error in exc.errors())) from None


def variable_of(field_name: str) -> str:
    """The environment variable that sets a field: of its aliases, the one set in the environment, else the first."""
    field = Settings.model_fields.get(field_name)
    choices = getattr(field.validation_alias, "choices", None) if field else None
    if not choices:
        return f"POWERCAST_{field_name.upper()}"
    present = {key.upper() for key in os.environ}
    return next((c for c in choices if c.upper() in present), choices[0])


def _describe(error: dict) -> str:
    """One setting's error: the variable and the form it expects, without echoing a value that may be secret."""
    name = str(error["loc"][0]) if error["loc"] else "?"
    field_name = name.lower().removeprefix("powercast_") if name not in Settings.model_fields else name
    message = error["msg"].removeprefix("Value error, ")
    message = message.replace("Input should be", "expected", 1)
    message = message.replace("expected greater", "expected a number greater").replace(
        "expected less", "expected a number less"
    )
    if error["type"] == "missing":
        message = "is required"
    return f"bad setting {variable_of(field_name)}: {message}"
