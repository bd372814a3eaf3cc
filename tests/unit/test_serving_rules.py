"""POST /forecast applies the rules of the Kafka reading events to every reading, in both request shapes, and
refuses a reading that breaks one with a short 422 naming the field and the row (never echoing the input)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from powercast.serving.app import create_app
from powercast.serving.champion import ChampionHolder
from tests.mlops.fakes import long_readings
from tests.unit.test_serving_app import FakeRegistry

ROW = 7
MARKER = "ECHO-CHECK-7f3a"  # sent in every refused body; must never come back


def _rows(minutes: int = 70, end: pd.Timestamp | None = None) -> list[dict]:
    readings = long_readings(machines=1, minutes=minutes, **({"end": end.isoformat()} if end is not None else {}))
    readings = readings.assign(ts=readings["ts"].map(pd.Timestamp.isoformat), machine_type=MARKER)
    return readings.to_dict(orient="records")


def _columns(rows: list[dict]) -> dict:
    return {name: [row.get(name) for row in rows] for name in rows[0]}


def _post(client, rows: list[dict], shape: str):
    body = {"readings": rows} if shape == "readings" else {"columns": _columns(rows)}
    # allow_nan: NaN and Infinity go on the wire as the JavaScript literals Python's json module reads
    return client.post(
        "/forecast", content=json.dumps(body, allow_nan=True), headers={"content-type": "application/json"}
    )


@pytest.fixture
def client():
    registry = FakeRegistry("1")
    with TestClient(
        create_app(ChampionHolder(registry.resolve, registry.load), poll_s=None), base_url="http://localhost"
    ) as client:
        yield client


TEN_MINUTES_AHEAD = object()  # resolved when the test runs: collection may be minutes earlier
BROKEN = {
    "value true": ("value", True),
    "value false": ("value", False),
    "value as a string": ("value", "12"),
    "value missing": ("value", None),
    "value NaN": ("value", float("nan")),
    "value infinite": ("value", float("inf")),
    "value a list": ("value", [1.0]),
    "ts in 2300": ("ts", "2300-01-01T00:00:00Z"),
    "ts ten minutes ahead": ("ts", TEN_MINUTES_AHEAD),
    "ts before 2000": ("ts", "1999-12-31T23:59:59Z"),
    "ts in 1970": ("ts", "1970-01-01T00:00:00Z"),
    "ts not a time": ("ts", "yesterday"),
    "machine_id empty": ("machine_id", ""),
    "machine_id with a space": ("machine_id", "M 001"),
    "machine_id with NUL": ("machine_id", "M-001\x00"),
    "machine_id too long": ("machine_id", "M" * 65),
    "machine_id a number": ("machine_id", 1),
    "unknown sensor": ("sensor", "humidity"),
    "sensor spelt oddly": ("sensor", " Power"),
    "unit of another sensor": ("unit", "kW"),
    "unit too long": ("unit", "W" * 17),
    "rated power zero": ("rated_power_w", 0.0),
    "rated power negative": ("rated_power_w", -5000.0),
    "rated power true": ("rated_power_w", True),
    "rated power as a string": ("rated_power_w", "5000"),
}


@pytest.mark.parametrize("shape", ["readings", "columns"])
@pytest.mark.parametrize("case", BROKEN)
def test_a_reading_breaking_an_event_rule_is_refused_by_field_and_row(client, case, shape):
    field, value = BROKEN[case]
    if value is TEN_MINUTES_AHEAD:
        value = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
    rows = _rows()
    rows[ROW][field] = value
    if shape == "columns" and field in ("unit", "rated_power_w"):  # a column sent for one reading is sent for all
        for row in rows:
            row.setdefault(field, None)
    response = _post(client, rows, shape)
    assert response.status_code == 422, response.text
    where = f"readings[{ROW}].{field}" if shape == "readings" else f"columns.{field}[{ROW}]"
    detail = response.json()["detail"]
    assert detail.startswith(f"{where}: "), detail
    assert len(response.content) < 4096 and MARKER not in response.text


@pytest.mark.parametrize("shape", ["readings", "columns"])
def test_readings_within_the_rules_are_forecast(client, shape):
    rows = _rows(end=pd.Timestamp.now(tz="UTC").floor("min"))
    rows[-1]["ts"] = (datetime.now(UTC) + timedelta(minutes=4)).isoformat()  # within the clock-skew allowance
    rows[ROW]["value"] = 1200  # an integer is a number
    for row in rows:
        row.update(unit={"power": "W", "temperature": "degC"}[row["sensor"]], rated_power_w=5000.0)
    response = _post(client, rows, shape)
    assert response.status_code == 200, response.text


def test_a_time_ahead_of_the_allowance_was_answered_with_wrong_times_before(client):
    """The issue: a reading dated 2300 overflowed int64 nanoseconds and was forecast from 1716."""
    rows = _rows()
    rows[-1]["ts"] = "2300-06-01T00:00:00+00:00"
    response = _post(client, rows, "readings")
    assert response.status_code == 422
    assert "in the future" in response.json()["detail"]


def test_many_broken_readings_give_one_short_reply(client):
    rows = _rows() * 20  # 16,800 readings, every value a string
    for row in rows:
        row["value"] = str(row["value"])
    response = _post(client, rows, "readings")
    assert response.status_code == 422
    assert len(response.content) < 4096 and MARKER not in response.text
    body = response.json()
    assert body["detail"].startswith("readings[0].value: ") and "16799 more problems" in body["detail"]
    assert len(body["errors"]) == 5 and all("input" not in e for e in body["errors"])


def test_unreadable_json_gives_a_short_reply(client):
    body = json.dumps({"readings": _rows()})[:-3]
    response = client.post("/forecast", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422 and "JSON" in response.json()["detail"]
    assert len(response.content) < 4096 and MARKER not in response.text


def test_machines_short_of_history_are_listed_briefly(client):
    rows = [{**row, "machine_id": f"M-{i:05d}"} for i, row in enumerate(_rows(minutes=5))]  # 60 machines, 1 reading
    response = _post(client, rows, "readings")
    assert response.status_code == 422
    body = response.json()
    assert len(body["machines"]) == 5 and body["machines_not_listed"] == len(rows) - 5
    assert len(response.content) < 4096
