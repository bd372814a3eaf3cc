"""The Grafana checks run against the session's PostgreSQL (tests/conftest.py), in a database of their own.

`grafana_fleet` creates it on the same server, applies the migrations, fills it with three hours of a small
simulated fleet (readings, the real feature job, forecasts, promotions, dead letters) ending at the minute the
session reached the fixture, and gives the read-only role a password. Queries run as that role.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from powercast.db.connection import connect
from powercast.db.migrate import migrate
from powercast.features.job import run_feature_job
from powercast.monitoring.alerts_role import grafana_url, set_grafana_password
from powercast.monitoring.quality import score_matured
from powercast.simulator.fleet import build_fleet
from tests.databases import create_database
from tests.grafana import fleet

PROVISIONING = Path(__file__).resolve().parents[2] / "grafana" / "provisioning"
DATABASE = "powercast_grafana_checks"
PASSWORD = "grafana-checks-Pa$s'word"
HISTORY = timedelta(hours=3)


def pytest_collection_modifyitems(items):
    for item in items:
        if "/grafana/" in str(item.fspath) and "postgres" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.integration)


@dataclass(frozen=True)
class GrafanaFleet:
    admin_url: str  # the checks' database as the migrating user
    reader_url: str  # the same database as Grafana's read-only role
    end: datetime  # the data ends here (a minute boundary); queries are evaluated at this time
    machines: tuple

    def reader(self):
        return connect(self.reader_url)

    def admin(self):
        return connect(self.admin_url)


@pytest.fixture(scope="session")
def grafana_fleet(postgres) -> GrafanaFleet:
    url = create_database(postgres, DATABASE)
    migrate(url)
    machines = build_fleet(6, seed=42)
    end = fleet.minute_floor(datetime.now(UTC))
    start = end - HISTORY
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "TRUNCATE readings, features_1m, feature_snapshots, forecasts, forecast_quality, model_promotions, "
                "drift_reports, dead_letters, alerts, machines"
            )
        conn.commit()
        filled = fleet.fill_readings(conn, machines, start, end, chunk_minutes=60)
        run_feature_job(conn, settle=timedelta(0))
        fleet.fill_forecasts(conn, machines, start, filled.power_minutes)
        score_matured(conn, end)
        fleet.fill_history(conn, start, end)
        with conn.cursor() as cur:
            cur.execute("ANALYZE")
        conn.commit()
    finally:
        conn.close()
    set_grafana_password(url, PASSWORD)
    return GrafanaFleet(url, grafana_url(url, PASSWORD), end, tuple(machines))


# The provisioned files, as Grafana reads them ----------------------------------------------------------------------
def dashboards() -> dict[str, dict]:
    folder = PROVISIONING / "dashboards" / "powercast"
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))}


def alerting() -> dict:
    return yaml.safe_load((PROVISIONING / "alerting" / "powercast.yaml").read_text(encoding="utf-8"))


def datasources() -> dict:
    return yaml.safe_load((PROVISIONING / "datasources" / "powercast.yaml").read_text(encoding="utf-8"))


def dashboard_provider() -> dict:
    return yaml.safe_load((PROVISIONING / "dashboards" / "powercast.yaml").read_text(encoding="utf-8"))


def panels(board: dict) -> list[dict]:
    """Every panel, rows' collapsed panels included (rows themselves left out)."""
    out = []
    for panel in board.get("panels", []):
        if panel.get("type") == "row":
            out.extend(panel.get("panels", []))
        else:
            out.append(panel)
    return out


def file_queries() -> list[tuple[str, str, str]]:
    """(where, sql, dashboard file or "alerting") of every query in the provisioned files."""
    found = []
    for name, board in dashboards().items():
        for panel in panels(board):
            for target in panel.get("targets", []):
                found.append((f"{name}: {panel['title']} / {target['refId']}", target["rawSql"], name))
        for variable in board.get("templating", {}).get("list", []):
            if variable["type"] == "query":
                found.append((f"{name}: variable {variable['name']}", variable["query"], name))
        for annotation in board.get("annotations", {}).get("list", []):
            if "target" in annotation and "rawSql" in annotation["target"]:
                found.append((f"{name}: annotation {annotation['name']}", annotation["target"]["rawSql"], name))
    for group in alerting()["groups"]:
        for rule in group["rules"]:
            for item in rule["data"]:
                if "rawSql" in item["model"]:
                    found.append((f"alert {rule['uid']} / {item['refId']}", item["model"]["rawSql"], "alerting"))
    return found
