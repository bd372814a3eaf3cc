"""Settings read from environment variables (and an optional `.env` file).

Every variable is prefixed `POWERCAST_`, except `DATABASE_URL` and `MLFLOW_TRACKING_URI`, which keep the
names their ecosystems use. Settings are built at an entry point and passed down; nothing reads the
environment at import time.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


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

    @property
    def bootstrap_servers(self) -> str:
        return self.kafka_bootstrap_servers or f"{self.kafka_host}:{self.kafka_port}"

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

    def embedded_database_url(self, database: str) -> str:
        return f"postgresql://postgres@{self.postgres_host}:{self.postgres_port}/{database}"

    @property
    def app_database_url(self) -> str:
        from powercast.names import APP_DATABASE

        return self.database_url or self.embedded_database_url(APP_DATABASE)

    @property
    def tracking_uri(self) -> str:
        return self.mlflow_tracking_uri or f"http://127.0.0.1:{self.mlflow_port}"

    # The control center (dash_app) and the labels it collects
    airflow_url: str | None = Field(
        None, description="Base URL of Airflow's API server; unset means the local one on airflow_port."
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
