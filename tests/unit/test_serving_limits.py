"""The service protects itself: body size (by Content-Length and while streaming), readings per request,
forecasts in progress, short replies, 4xx for malformed paths, 503 with Retry-After while the database is down;
and it never answers a negative forecast."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from fastapi.testclient import TestClient

from powercast.serving.app import create_app
from powercast.serving.champion import ChampionHolder
from powercast.serving.limits import BodyLimit, ServingLimits
from powercast.stack.process import free_port
from tests.unit.test_serving_app import FakeRegistry, _body

LIMITS = ServingLimits(max_body_bytes=200_000, max_readings=2_000, max_concurrent_forecasts=2, forecast_wait_s=0.2)
JSON = {"content-type": "application/json"}


def _client(limits: ServingLimits = LIMITS, database_url: str | None = None, model=None) -> TestClient:
    registry = FakeRegistry("1")
    load = registry.load if model is None else (lambda version: model)
    return TestClient(
        create_app(ChampionHolder(registry.resolve, load), database_url, poll_s=None, limits=limits),
        base_url="http://localhost",
    )


def _oversized() -> bytes:
    body = json.dumps(_body(machines=3, minutes=120)).encode()  # 8,640 readings, about 470 kB
    assert len(body) > LIMITS.max_body_bytes
    return body


def test_a_body_over_the_limit_is_refused_by_its_content_length():
    with _client() as client:
        response = client.post("/forecast", content=_oversized(), headers=JSON)
    assert response.status_code == 413 and "POWERCAST_SERVING_MAX_BODY_BYTES" in response.json()["detail"]
    assert len(response.content) < 4096


def test_a_streamed_body_over_the_limit_is_refused():
    body = _oversized()

    def chunks():  # no Content-Length: sent chunked
        for start in range(0, len(body), 16_000):
            yield body[start : start + 16_000]

    with _client() as client:
        response = client.post("/forecast", content=chunks(), headers=JSON)
    assert response.status_code == 413 and len(response.content) < 4096


def test_streaming_stops_reading_once_past_the_limit():
    """The middleware on its own: a client streaming 100 chunks of 10 kB against a 25 kB limit is answered 413
    after the third chunk, and the rest is never read."""
    chunks_read, sent = 0, []

    async def receive():
        nonlocal chunks_read
        chunks_read += 1
        return {"type": "http.request", "body": b"x" * 10_000, "more_body": chunks_read < 100}

    async def send(message):
        sent.append(message)

    async def app(scope, receive, send):  # reads the whole body, as a JSON endpoint does
        more = True
        while more:
            more = (await receive()).get("more_body", False)
        raise AssertionError("the whole body was read")

    scope = {"type": "http", "method": "POST", "path": "/forecast", "headers": [(b"content-type", b"application/json")]}
    asyncio.run(BodyLimit(app, max_bytes=25_000)(scope, receive, send))
    assert chunks_read == 3 and sent[0]["status"] == 413


def test_content_length_that_is_not_a_number_is_refused():
    scope = {"type": "http", "method": "POST", "path": "/forecast", "headers": [(b"content-length", b"12abc")]}
    sent = []

    async def send(message):
        sent.append(message)

    async def never(scope, receive, send):
        raise AssertionError("the app was called")

    asyncio.run(BodyLimit(never, max_bytes=100)(scope, None, send))
    assert sent[0]["status"] == 400


def test_too_many_readings_are_refused():
    body = _body(machines=2, minutes=10)  # 2 machines x 2 sensors x 60 readings = 240
    with _client(ServingLimits(200_000, 200, 2, 0.2)) as client:
        response = client.post("/forecast", json=body)
    assert response.status_code == 413 and "at most 200" in response.json()["detail"]


class Blocking:
    """A model whose single-machine scoring waits until released (to hold a forecast slot)."""

    def __init__(self, model):
        self.model, self.model_name = model, model.model_name
        self.entered, self.release = threading.Event(), threading.Event()

    def score_machine(self, readings):
        self.entered.set()
        assert self.release.wait(10)
        return self.model.score_machine(readings)


def test_forecasts_beyond_the_slots_wait_briefly_then_get_503_with_retry_after():
    blocking = Blocking(FakeRegistry().load("1"))
    limits = ServingLimits(200_000, 2_000, max_concurrent_forecasts=1, forecast_wait_s=0.2)
    with _client(limits, model=blocking) as client:
        first = {}
        thread = threading.Thread(target=lambda: first.update(response=client.post("/forecast", json=_body())))
        thread.start()
        try:
            assert blocking.entered.wait(10)
            busy = client.post("/forecast", json=_body())
            health = client.get("/health")  # only forecasts take a slot
        finally:
            blocking.release.set()
            thread.join()
        assert busy.status_code == 503 and busy.headers["Retry-After"] == "1"
        assert health.status_code == 200
        assert first["response"].status_code == 200
        assert client.post("/forecast", json=_body()).status_code == 200  # the slot is free again


@pytest.mark.parametrize(
    "path",
    [
        "/forecasts/%00",
        "/forecasts/M-001%00",
        "/%00",
        "/forecast%00",
        "/health%00",
        "/forecasts/%ff",
        "/forecasts/%2e%2e",
    ]
    + ["/forecasts/" + "M" * 5000, "/forecasts/..%2F..%2Fetc%2Fpasswd", "/forecasts/M%20001", "/forecasts/%E2%80%8B"],
)
@pytest.mark.parametrize("database", [False, True], ids=["no database", "database down"])
def test_a_malformed_path_gives_4xx_never_500(path, database):
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/powercast" if database else None
    with _client(database_url=url) as client:
        response = client.get(path)
    assert 400 <= response.status_code < 500, response.text
    assert len(response.content) < 4096


def test_stored_forecasts_during_a_database_outage_give_503_with_retry_after():
    url = f"postgresql://postgres:secret@127.0.0.1:{free_port()}/powercast"
    with _client(database_url=url) as client:
        response = client.get("/forecasts/M-001")
        forecast = client.post("/forecast", json=_body())
    assert response.status_code == 503 and int(response.headers["Retry-After"]) > 0
    assert "cannot be reached" in response.json()["detail"]
    assert "127.0.0.1" not in response.text and "secret" not in response.text  # the cause goes to the log only
    assert forecast.status_code == 200  # forecasts on request do not need the database


def test_no_model_gives_503_with_retry_after():
    with TestClient(
        create_app(ChampionHolder(lambda: None, lambda v: None), poll_s=None, limits=LIMITS),
        base_url="http://localhost",
    ) as client:
        response = client.post("/forecast", json=_body())
    assert response.status_code == 503 and int(response.headers["Retry-After"]) > 0


@pytest.mark.parametrize("machines", [1, 2], ids=["one machine", "several machines"])
def test_forecasts_are_never_negative(machines):
    from tests.unit.test_serving_pyfunc import ForecasterModel, LastValue, long_readings, minute_frame

    model = ForecasterModel(LastValue(scale=-1.0).fit(minute_frame(long_readings(minutes=120))), {}, 60, "neg")
    with _client(model=model) as client:
        response = client.post("/forecast", json=_body(machines=machines))
    assert response.status_code == 200, response.text
    points = [p for f in response.json()["forecasts"] for p in f["points"]]
    assert len(points) == 15 * machines
    assert all(0 <= p["yhat_lo"] <= p["yhat"] <= p["yhat_hi"] for p in points)


def test_limits_come_from_the_settings(monkeypatch):
    from powercast.config import Settings

    monkeypatch.setenv("POWERCAST_SERVING_MAX_BODY_BYTES", "1000")
    monkeypatch.setenv("POWERCAST_SERVING_MAX_READINGS", "10")
    limits = ServingLimits.from_settings(Settings(_env_file=None))
    assert (limits.max_body_bytes, limits.max_readings) == (1000, 10)
    defaults = ServingLimits.from_settings(Settings(_env_file=None, serving_max_body_bytes=4 * 1024 * 1024))
    assert defaults.max_body_bytes == 4 * 1024 * 1024
    with TestClient(
        create_app(ChampionHolder(lambda: "1", FakeRegistry().load), poll_s=None), base_url="http://localhost"
    ) as client:
        assert client.post("/forecast", json=_body()).status_code == 413  # the service reads them by default
