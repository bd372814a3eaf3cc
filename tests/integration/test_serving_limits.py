"""The service's limits over a real socket (uvicorn): a chunked body is cut off once past the size limit, a body
announced too large is refused before it is sent, a burst of forecasts beyond the slots gets 503 with Retry-After,
and the stored forecasts answer 503 while PostgreSQL is down."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

from powercast.serving.app import create_app
from powercast.serving.champion import ChampionHolder
from powercast.serving.limits import ServingLimits
from powercast.stack.process import free_port
from tests.unit.test_serving_app import FakeRegistry, _body
from tests.unit.test_serving_limits import Blocking

LIMITS = ServingLimits(max_body_bytes=200_000, max_readings=5_000, max_concurrent_forecasts=1, forecast_wait_s=0.3)


@pytest.fixture
def service():
    """The service on a free loopback port, serving a model that can be held mid-request; yields (url, model)."""
    import uvicorn

    model = Blocking(FakeRegistry().load("1"))
    model.release.set()
    down = f"postgresql://postgres@127.0.0.1:{free_port()}/powercast"
    app = create_app(ChampionHolder(lambda: "1", lambda version: model), down, poll_s=None, limits=LIMITS)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", model
    server.should_exit = True
    thread.join(timeout=10)


def test_a_chunked_body_is_cut_off_past_the_limit(service):
    url, _ = service
    sent = 0

    def chunks():
        nonlocal sent
        for _ in range(200):  # 200 x 10 kB = 2 MB, ten times the limit
            sent += 1
            yield b" " * 10_000

    with httpx.Client(base_url=url, timeout=30) as client:
        try:
            response = client.post("/forecast", content=chunks(), headers={"content-type": "application/json"})
        except httpx.TransportError:  # the server may close the connection while the client still sends
            response = None
        assert client.get("/health").status_code == 200  # the service is fine
    if response is not None:
        assert response.status_code == 413 and len(response.content) < 4096


def test_a_body_announced_too_large_is_refused(service):
    url, _ = service
    body = json.dumps(_body(machines=3, minutes=120)).encode()
    response = httpx.post(f"{url}/forecast", content=body, headers={"content-type": "application/json"}, timeout=30)
    assert response.status_code == 413 and "POWERCAST_SERVING_MAX_BODY_BYTES" in response.json()["detail"]


def test_a_forecast_beyond_the_slots_gets_503_with_retry_after(service):
    url, model = service
    model.release.clear()
    model.entered.clear()
    first = {}
    thread = threading.Thread(target=lambda: first.update(r=httpx.post(f"{url}/forecast", json=_body(), timeout=30)))
    thread.start()
    try:
        assert model.entered.wait(10)
        busy = httpx.post(f"{url}/forecast", json=_body(), timeout=30)
    finally:
        model.release.set()
        thread.join()
    assert busy.status_code == 503 and busy.headers["retry-after"] == "1"
    assert first["r"].status_code == 200


def test_stored_forecasts_answer_503_while_the_database_is_down(service):
    url, _ = service
    response = httpx.get(f"{url}/forecasts/M-001", timeout=30)
    assert response.status_code == 503 and response.headers["retry-after"]
    health = httpx.get(f"{url}/health", timeout=30).json()
    assert health["status"] == "degraded" and health["dependencies"]["database"]["status"] == "down"
    assert httpx.get(f"{url}/forecasts/%00", timeout=30).status_code == 422
