"""The provisioned files parse and have the shape Grafana's loaders expect, without a Grafana server.

Dashboards are decoded with grafana-foundation-sdk's types (Grafana 11.6, schemaVersion 41) and must encode back
to the same JSON (an unknown or misspelt key would be dropped and show up as a difference); the alert rules go
through the SDK's rule model the same way. Where the SDK is not installed those two checks skip and the
structural checks below (what Grafana's provisioning refuses: missing uid or title, duplicate panel ids, a
data source or variable that does not exist, a condition without its query...) still run.
"""

from __future__ import annotations

import json
import re

import pytest

from grafana.generator.queries import ALL_QUERIES, by_sql, tables_read
from powercast.db.migrate import default_sql_dir
from powercast.monitoring.alerts_app import WEBHOOK_PATH
from powercast.names import GRAFANA_ROLE
from tests.grafana.conftest import (
    PROVISIONING,
    alerting,
    dashboard_provider,
    dashboards,
    datasources,
    file_queries,
    panels,
)

DURATION = re.compile(r"^\d+[smhd]$")
TIME = re.compile(r"^now([+-]\d+[smhdw])?$")
VARIABLE_USE = re.compile(r"\$\{?(\w+)\}?")
PANEL_TYPES = {"timeseries", "table", "stat", "barchart", "state-timeline"}


def _datasource_uids() -> set[str]:
    return {d["uid"] for d in datasources()["datasources"]}


def test_every_file_parses():
    files = sorted(p.relative_to(PROVISIONING).as_posix() for p in PROVISIONING.rglob("*") if p.is_file())
    assert files == [
        "alerting/powercast.yaml",
        "dashboards/powercast.yaml",
        "dashboards/powercast/forecast-vs-actual.json",
        "dashboards/powercast/pipeline-health.json",
        "dashboards/powercast/sensors-live.json",
        "datasources/powercast.yaml",
    ]
    assert len(dashboards()) == 3 and alerting()["apiVersion"] == 1


def test_the_data_source_is_the_read_only_role_with_its_password_from_the_environment():
    (source,) = datasources()["datasources"]
    assert source["type"] == "grafana-postgresql-datasource" and source["user"] == GRAFANA_ROLE
    assert source["secureJsonData"] == {"password": "${POWERCAST_GRAFANA_DB_PASSWORD}"}
    assert source["url"] == "${POWERCAST_GRAFANA_DB_HOST}" and source["jsonData"]["database"].startswith("${")
    provider = dashboard_provider()["providers"][0]
    assert provider["type"] == "file" and provider["options"]["path"].endswith("/dashboards/powercast")


@pytest.mark.parametrize("name", sorted(dashboards()))
def test_dashboard_structure(name):
    board = dashboards()[name]
    assert board["uid"] and len(board["uid"]) <= 40 and board["title"] and board["schemaVersion"] == 41
    assert TIME.match(board["time"]["from"]) and TIME.match(board["time"]["to"])
    assert DURATION.match(board["refresh"])
    variables = {v["name"] for v in board.get("templating", {}).get("list", [])}
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    cells = set()
    for panel in board["panels"]:
        pos = panel["gridPos"]
        assert 0 <= pos["x"] and pos["x"] + pos["w"] <= 24 and pos["h"] > 0, panel["title"]
        covered = {(x, y) for x in range(pos["x"], pos["x"] + pos["w"]) for y in range(pos["y"], pos["y"] + pos["h"])}
        assert not covered & cells, f"{panel['title']} overlaps another panel"
        cells |= covered
    for panel in panels(board):
        assert panel["type"] in PANEL_TYPES and panel["title"]
        assert panel["datasource"]["uid"] in _datasource_uids()
        refs = [t["refId"] for t in panel["targets"]]
        assert refs and len(refs) == len(set(refs))
        for target in panel["targets"]:
            assert target["datasource"]["uid"] in _datasource_uids() and target["rawQuery"] is True
            assert target["format"] in ("time_series", "table")
            used = {v for v in VARIABLE_USE.findall(target["rawSql"]) if not v.startswith("__")}
            assert used <= variables, f"{panel['title']} uses undefined variables {used - variables}"
    if name == "sensors-live.json":
        assert board["refresh"] == "5s" and "machine" in variables


def test_every_query_in_the_files_is_in_the_catalogue_and_back():
    in_files = {sql for _, sql, _ in file_queries()}
    catalogue = by_sql()
    assert in_files - set(catalogue) == set(), "a provisioned query has no expectation in grafana/generator/queries"
    assert set(catalogue) - in_files == set(), "a catalogued query is used by no dashboard or rule"
    assert len(catalogue) == len(ALL_QUERIES)


def test_the_read_only_role_is_granted_exactly_the_tables_the_queries_read():
    migrations = "\n".join(p.read_text() for p in sorted(default_sql_dir().glob("*.sql")))

    def tables(statement: str) -> set[str]:
        found = re.findall(statement, migrations, re.S)
        return {t.strip() for listed in found for t in listed.split(",")}

    granted = tables(r"GRANT SELECT ON (.*?) TO powercast_grafana;")
    revoked = tables(r"REVOKE SELECT ON (.*?) FROM powercast_grafana;")
    assert granted - revoked == tables_read()
    for query in ALL_QUERIES:
        named = set(re.findall(r"\b(?:FROM|JOIN)\s+([a-z_0-9]+)\s", query.sql))
        ctes = set(re.findall(r"\b([a-z_]+) AS \(", query.sql))
        assert named - ctes <= set(query.tables), f"{query.name} reads {named - ctes - set(query.tables)}"


@pytest.mark.parametrize("rule", alerting()["groups"][0]["rules"], ids=lambda r: r["uid"])
def test_alert_rule_structure(rule):
    refs = {d["refId"]: d for d in rule["data"]}
    assert rule["uid"] and rule["title"] and rule["condition"] in refs
    assert DURATION.match(rule["for"]) and rule["noDataState"] in ("OK", "NoData", "Alerting")
    assert rule["execErrState"] in ("OK", "Error", "Alerting")
    assert rule["labels"]["severity"] in ("critical", "warning")
    assert not any("$" in v for v in rule["labels"].values()), "Grafana interpolates $ in provisioned labels"
    query = by_sql()[refs["A"]["model"]["rawSql"]]
    assert query.columns[0] == ("machine", "text"), "instances are labelled by machine"
    assert refs["A"]["datasourceUid"] in _datasource_uids() and refs["A"]["relativeTimeRange"]["from"] > 0
    condition = refs[rule["condition"]]
    assert condition["datasourceUid"] == "__expr__" and condition["model"]["expression"] == "A"
    assert rule["notification_settings"]["receiver"] in {c["name"] for c in alerting()["contactPoints"]}


def test_the_contact_point_posts_to_the_alerts_receiver():
    (point,) = alerting()["contactPoints"]
    (receiver,) = point["receivers"]
    assert receiver["type"] == "webhook"
    assert receiver["settings"]["url"] == f"http://127.0.0.1:${{POWERCAST_ALERTS_PORT}}{WEBHOOK_PATH}"
    (policy,) = alerting()["policies"]
    assert policy["receiver"] == point["name"] and "machine" in policy["group_by"]
    group = alerting()["groups"][0]
    assert group["folder"] and DURATION.match(group["interval"])


# With grafana-foundation-sdk (the generator's dependency) -----------------------------------------------------
@pytest.mark.parametrize("name", sorted(dashboards()))
def test_dashboards_decode_with_the_sdk_types_and_encode_back_unchanged(name):
    sdk = pytest.importorskip(
        "grafana_foundation_sdk", reason="pip install 'grafana-foundation-sdk==1769699379!11.6.0'"
    )
    from grafana_foundation_sdk.cog.encoder import JSONEncoder
    from grafana_foundation_sdk.models.dashboard import Dashboard

    assert sdk
    board = dashboards()[name]
    again = json.loads(json.dumps(Dashboard.from_json(board), cls=JSONEncoder))
    # The SDK types an annotation's target as the built-in Grafana one only: compare the SQL targets apart.
    for annotation in board.get("annotations", {}).get("list", []):
        assert "rawSql" in annotation.pop("target")
    for annotation in again.get("annotations", {}).get("list", []):
        annotation.pop("target")
    assert again == board


def test_alert_rules_decode_with_the_sdk_rule_model():
    pytest.importorskip("grafana_foundation_sdk", reason="pip install 'grafana-foundation-sdk==1769699379!11.6.0'")
    from grafana_foundation_sdk.cog.encoder import JSONEncoder
    from grafana_foundation_sdk.models.alerting import Rule

    api_only = {"folderUID", "orgID", "ruleGroup"}  # the HTTP API's placement fields; files give them per group
    for rule in alerting()["groups"][0]["rules"]:
        again = json.loads(json.dumps(Rule.from_json(rule), cls=JSONEncoder))
        assert {k: v for k, v in again.items() if k not in api_only} == rule


def test_the_committed_files_are_what_the_generator_writes():
    pytest.importorskip("grafana_foundation_sdk", reason="pip install 'grafana-foundation-sdk==1769699379!11.6.0'")
    from grafana.generator.render import render_all

    for relative, text in render_all().items():
        assert (PROVISIONING / relative).read_text(encoding="utf-8") == text, "run `python -m grafana.generator`"
