"""The forecasting API around a champion holder with injected registry calls (no MLflow, no database)."""

import threading
import time

import pytest
from fastapi.testclient import TestClient

from powercast.scoring.model import ForecasterModel, minute_frame
from powercast.serving.app import create_app
from powercast.serving.champion import ChampionHolder
from tests.mlops.fakes import LastValue, long_readings


def _wrapped(scale: float) -> ForecasterModel:
    frame = minute_frame(long_readings(minutes=120))
    return ForecasterModel(LastValue(scale=scale).fit(frame), {"history": 60}, 60, f"last_value_x{scale}")


class FakeRegistry:
    """The alias points at `version`; loading version v gives a model that scales by v."""

    def __init__(self, version=None):
        self.version = version
        self.loads = []

    def resolve(self):
        return self.version

    def load(self, version):
        self.loads.append(version)
        return _wrapped(float(version))


def _body(machines=1, minutes=70):
    readings = long_readings(machines=machines, minutes=minutes)
    readings["ts"] = readings["ts"].map(lambda t: t.isoformat())
    return {"readings": readings.to_dict(orient="records")}


@pytest.fixture
def registry():
    return FakeRegistry()


@pytest.fixture
def client(registry):
    holder = ChampionHolder(registry.resolve, registry.load)
    with TestClient(create_app(holder, poll_s=None), base_url="http://localhost") as client:
        client.holder = holder
        yield client


def test_no_model_gives_503_with_the_reason(client):
    response = client.post("/forecast", json=_body())
    assert response.status_code == 503 and "champion" in response.json()["detail"]
    health = client.get("/health")
    assert health.status_code == 503 and health.json()["status"] == "no_model"


def test_forecast_for_each_machine(client, registry):
    registry.version = "1"
    assert client.holder.refresh()
    response = client.post("/forecast", json=_body(machines=2))
    assert response.status_code == 200, response.text
    forecasts = response.json()["forecasts"]
    assert [f["machine_id"] for f in forecasts] == ["M-001", "M-002"]
    assert all(len(f["points"]) == 15 and f["model_version"] == "1" for f in forecasts)
    point = forecasts[0]["points"][0]
    assert point["yhat_lo"] <= point["yhat"] <= point["yhat_hi"]
    assert client.get("/health").json()["model_version"] == "1"


def test_columns_give_the_same_forecast_as_readings(client, registry):
    registry.version = "1"
    client.holder.refresh()
    rows = _body(machines=2)["readings"]
    columns = {name: [row[name] for row in rows] for name in rows[0]}
    by_rows = client.post("/forecast", json={"readings": rows})
    by_columns = client.post("/forecast", json={"columns": columns})
    assert by_columns.status_code == 200, by_columns.text
    assert by_columns.json() == by_rows.json()
    assert client.post("/forecast", json={"readings": rows, "columns": columns}).status_code == 422
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    assert {"Reading", "ReadingColumns"} <= set(schema)


def test_too_little_data_gives_422_naming_the_machine(client, registry):
    registry.version = "1"
    client.holder.refresh()
    response = client.post("/forecast", json=_body(minutes=10))
    assert response.status_code == 422
    assert "M-001" in response.json()["machines"]


def test_malformed_body_gives_422(client, registry):
    registry.version = "1"
    client.holder.refresh()
    assert client.post("/forecast", json={"readings": [{"machine_id": "M-1"}]}).status_code == 422
    assert client.post("/forecast", json={"readings": []}).status_code == 422


def test_openapi_page(client):
    assert client.get("/docs").status_code == 200
    assert "/forecast" in client.get("/openapi.json").json()["paths"]


def test_alias_move_swaps_the_model_while_requests_run(client, registry):
    registry.version = "1"
    client.holder.refresh()
    statuses, versions, stop = [], set(), threading.Event()

    def hammer():
        while not stop.is_set():
            r = client.post("/forecast", json=_body())
            statuses.append(r.status_code)
            if r.status_code == 200:
                versions.add(r.json()["forecasts"][0]["model_version"])

    thread = threading.Thread(target=hammer)
    thread.start()
    try:
        while len(statuses) < 3:
            time.sleep(0.01)
        registry.version = "2"
        assert client.holder.refresh()
        before = len(statuses)
        while len(statuses) < before + 3:
            time.sleep(0.01)
    finally:
        stop.set()
        thread.join()
    assert set(statuses) == {200}
    assert versions == {"1", "2"}
    yhat_v2 = client.post("/forecast", json=_body()).json()["forecasts"][0]["points"][0]["yhat"]
    registry.version = "1"
    client.holder.refresh()
    yhat_v1 = client.post("/forecast", json=_body()).json()["forecasts"][0]["points"][0]["yhat"]
    assert yhat_v2 == pytest.approx(2 * yhat_v1)


def test_registry_outage_keeps_the_loaded_model(registry):
    registry.version = "1"
    holder = ChampionHolder(registry.resolve, registry.load)
    holder.refresh()

    def down():
        raise ConnectionError("connection refused")

    holder._resolve = down
    assert holder.refresh() is False
    assert holder.current.version == "1" and "cannot be reached" in holder.reason
    assert registry.loads == ["1"]
