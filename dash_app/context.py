"""What the callbacks need, built once in `create_app`: settings, the connection pool, the Airflow client."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from powercast.config import Settings


@dataclass
class Context:
    settings: Settings
    db: object  # dash_app.db.Database
    airflow: object  # dash_app.airflow.AirflowClient

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC)
