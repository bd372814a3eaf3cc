"""GET /health reports each dependency (champion, registry, database) and an overall status that is `ok` only
when all of them answer."""

from __future__ import annotations

from fastapi.testclient import TestClient

from powercast.serving.app import create_app
from powercast.serving.champion import ChampionHolder
from powercast.stack.process import free_port
from tests.unit.test_serving_app import FakeRegistry, _body
from tests.unit.test_serving_limits import LIMITS


def _client(registry: FakeRegistry, database_url: str | None = None) -> TestClient:
    holder = ChampionHolder(registry.resolve, registry.load)
    client = TestClient(create_app(holder, database_url, poll_s=None, limits=LIMITS), base_url="http://localhost")
    client.holder = holder
    return client


def _statuses(health: dict) -> dict[str, str]:
    return {name: dependency["status"] for name, dependency in health["dependencies"].items()}


def test_all_dependencies_up_is_ok():
    with _client(FakeRegistry("1")) as client:
        response = client.get("/health")
    health = response.json()
    assert response.status_code == 200 and health["status"] == "ok"
    assert _statuses(health) == {"champion": "ok", "registry": "ok", "database": "not_configured"}
    assert health["model_version"] == "1" and 0 <= health["model_age_s"] < 60
    assert "version 1" in health["dependencies"]["champion"]["detail"]


def test_registry_down_is_degraded_and_the_loaded_model_still_serves():
    registry = FakeRegistry("1")
    with _client(registry) as client:

        def down():
            raise ConnectionError()  # no message: the reason still reads

        client.holder._resolve = down
        assert client.holder.refresh() is False
        health = client.get("/health")
        forecast = client.post("/forecast", json=_body())
        client.holder._resolve = registry.resolve
        client.holder.refresh()
        recovered = client.get("/health").json()
    assert health.status_code == 200 and health.json()["status"] == "degraded"
    assert _statuses(health.json())["registry"] == "down" and "registry" in health.json()["reason"]
    assert "cannot be reached" in health.json()["dependencies"]["registry"]["detail"]
    assert forecast.status_code == 200
    assert recovered["status"] == "ok"


def test_database_down_is_degraded():
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/powercast"
    with _client(FakeRegistry("1"), url) as client:
        response = client.get("/health")
    health = response.json()
    assert response.status_code == 200 and health["status"] == "degraded" and health["reason"] == "down: database"
    assert _statuses(health) == {"champion": "ok", "registry": "ok", "database": "down"}
    assert "cannot reach PostgreSQL" in health["dependencies"]["database"]["detail"]


def test_no_champion_is_503_with_each_dependency():
    with _client(FakeRegistry(None)) as client:
        response = client.get("/health")
    health = response.json()
    assert response.status_code == 503 and int(response.headers["Retry-After"]) > 0
    assert health["status"] == "no_model" and "champion" in health["reason"]
    assert _statuses(health) == {"champion": "down", "registry": "ok", "database": "not_configured"}
    assert len(response.content) < 4096
