"""Every panel, variable, annotation and alert query of the provisioned files runs against the real schema as the
read-only role, with the macros expanded as Grafana's PostgreSQL data source does, and returns what it must."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from grafana.generator import macros
from grafana.generator.queries import by_sql
from tests.grafana.conftest import alerting, dashboards, file_queries, panels
from tests.grafana.run import KINDS, relative_time, run, variable_values

# No sensor has gone quiet; the z-score has no verdict while every machine's load is changing (which depends on
# the hour the session runs at: test_alert_rules gives it a machine at steady load).
EMPTY_ON_A_HEALTHY_FLEET = {"stale_sensors", "alert_zscore"}


def _panel_cases():
    cases = []
    for name, board in dashboards().items():
        for panel in panels(board):
            for target in panel.get("targets", []):
                cases.append(pytest.param(name, panel, target, id=f"{name}:{panel['id']}:{target['refId']}"))
    return cases


def _check(result, query):
    assert [name for name, _ in result.columns] == [name for name, _ in query.columns], result.sql
    for (name, oid), (_, kind) in zip(result.columns, query.columns):
        assert oid in KINDS[kind], f"column {name!r} has type oid {oid}, expected a {kind}"
    if query.name not in EMPTY_ON_A_HEALTHY_FLEET:
        assert result.rows, f"{query.name} returned no rows:\n{result.sql}"
    if query.format == "time_series":
        times = [row[0] for row in result.rows]
        assert times == sorted(times), "time series rows must come in time order"


@pytest.mark.parametrize(("name", "panel", "target"), _panel_cases())
def test_panel_query_runs_as_the_reader_and_returns_its_columns(grafana_fleet, name, panel, target):
    board = dashboards()[name]
    query = by_sql()[target["rawSql"]]
    assert target["format"] == query.format
    now = datetime.now(UTC)  # the fleet's data ends a little before
    time_from, time_to = relative_time(board["time"]["from"], now), relative_time(board["time"]["to"], now)
    conn = grafana_fleet.reader()
    try:
        values, multi = variable_values(board, conn, now)
        interval = macros.nice_interval(time_to - time_from, minimum=panel.get("interval"))
        result = run(conn, query.sql, time_from, time_to, interval=interval, variables=values, multi=multi)
    finally:
        conn.close()
    _check(result, query)


def test_annotation_and_variable_queries_run_as_the_reader(grafana_fleet):
    now = datetime.now(UTC)
    conn = grafana_fleet.reader()
    try:
        for where, sql, _ in file_queries():
            if "variable" in where or "annotation" in where:
                query = by_sql()[sql]
                _check(run(conn, sql, now - timedelta(hours=3), now), query)
    finally:
        conn.close()


@pytest.mark.parametrize("rule", alerting()["groups"][0]["rules"], ids=lambda r: r["uid"])
def test_alert_query_runs_as_the_reader_and_returns_one_row_per_instance(grafana_fleet, rule):
    (data,) = [d for d in rule["data"] if "rawSql" in d["model"]]
    query = by_sql()[data["model"]["rawSql"]]
    now = grafana_fleet.end + timedelta(seconds=5)
    window = timedelta(seconds=data["relativeTimeRange"]["from"] - data["relativeTimeRange"]["to"])
    conn = grafana_fleet.reader()
    try:
        result = run(conn, query.sql, now - window, now)
    finally:
        conn.close()
    _check(result, query)
    labels = [tuple(v for v, (_, kind) in zip(row, query.columns) if kind == "text") for row in result.rows]
    assert len(labels) == len(set(labels)), "two rows with the same labels would be one alert instance twice"
    assert {row[0] for row in result.rows} <= {m.machine_id for m in grafana_fleet.machines}
