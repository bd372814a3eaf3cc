"""Who may use the forecasting API: the Host header check (DNS rebinding) and the bearer token."""

import os
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from powercast.config import Settings
from powercast.errors import PowercastError
from powercast.serving.access import ApiAccess, allowed_hosts, is_loopback, require_token_beyond_loopback
from powercast.serving.app import create_app
from powercast.serving.champion import ChampionHolder
from powercast.serving.limits import ServingLimits
from tests.unit.test_serving_app import FakeRegistry, _body

LIMITS = ServingLimits(
    max_body_bytes=2 * 1024 * 1024, max_readings=50_000, max_concurrent_forecasts=2, forecast_wait_s=1
)
TOKEN = "s3cret-token-ü"


def _client(access: ApiAccess, base_url: str = "http://localhost") -> TestClient:
    registry = FakeRegistry(version="1")
    app = create_app(ChampionHolder(registry.resolve, registry.load), poll_s=None, limits=LIMITS, access=access)
    return TestClient(app, base_url=base_url)


@pytest.mark.parametrize("host", ["localhost", "localhost:8000", "127.0.0.1:8000", "[::1]:8000", "LOCALHOST"])
def test_loopback_hosts_are_answered(host):
    with _client(ApiAccess()) as client:
        assert client.get("/health", headers={"host": host}).status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example", "", "[::1"])
def test_other_hosts_get_400_naming_the_setting(host):
    with _client(ApiAccess()) as client:
        response = client.post("/forecast", json=_body(), headers={"host": host})
    assert response.status_code == 400
    assert "POWERCAST_API_ALLOWED_HOSTS" in response.json()["detail"]


def test_allowed_hosts_come_from_the_settings_and_the_bind_address(monkeypatch):
    monkeypatch.setenv("POWERCAST_API_ALLOWED_HOSTS", "forecasts.plant.example, 10.1.2.3")
    access = ApiAccess.from_settings(Settings(_env_file=None), bind_host="192.168.1.5")
    assert access.allowed_hosts == (
        "localhost",
        "127.0.0.1",
        "[::1]",
        "192.168.1.5",
        "forecasts.plant.example",
        "10.1.2.3",
    )
    with _client(access) as client:
        for host in ("forecasts.plant.example:8000", "192.168.1.5", "10.1.2.3:80"):
            assert client.get("/health", headers={"host": host}).status_code == 200, host
        assert client.get("/health", headers={"host": "other.plant.example"}).status_code == 400


def test_a_wildcard_bind_address_is_not_a_host_name_and_star_allows_any():
    assert allowed_hosts("0.0.0.0", []) == ("localhost", "127.0.0.1", "[::1]")
    assert allowed_hosts("::", []) == ("localhost", "127.0.0.1", "[::1]")
    with _client(ApiAccess(allowed_hosts=("*",))) as client:
        assert client.get("/health", headers={"host": "anything.example"}).status_code == 200


def test_with_a_token_requests_need_it():
    with _client(ApiAccess(token=TOKEN)) as client:
        missing = client.post("/forecast", json=_body())
        wrong = client.post("/forecast", json=_body(), headers={"authorization": "Bearer nope"})
        bare = client.post("/forecast", json=_body(), headers={"authorization": TOKEN.encode()})
        right = client.post("/forecast", json=_body(), headers={"authorization": f"Bearer {TOKEN}".encode()})
        stored = client.get("/forecasts/M-001")
    for response in (missing, wrong, bare, stored):
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert "POWERCAST_API_TOKEN" in response.json()["detail"]
    assert right.status_code == 200 and right.json()["forecasts"][0]["machine_id"] == "M-001"


def test_health_and_docs_stay_open_with_a_token():
    with _client(ApiAccess(token=TOKEN)) as client:
        assert client.get("/health").status_code == 200
        assert client.get("/openapi.json").status_code == 200
        assert client.get("/docs").status_code == 200


def test_the_token_is_checked_before_the_body_is_read():
    """An anonymous client cannot make the service read a large body or take a forecast slot."""
    oversized = {"content": b"x" * (LIMITS.max_body_bytes + 1), "headers": {"content-type": "application/json"}}
    with _client(ApiAccess(token=TOKEN)) as client:
        assert client.post("/forecast", **oversized).status_code == 401
    with _client(ApiAccess()) as client:
        assert client.post("/forecast", **oversized).status_code == 413


def test_the_host_is_checked_before_the_token():
    with _client(ApiAccess(token=TOKEN)) as client:
        response = client.get(
            "/forecasts/M-001", headers={"host": "evil.example", "authorization": f"Bearer {TOKEN}".encode()}
        )
    assert response.status_code == 400


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.5", "::1", "[::1]", "localhost"])
def test_loopback_needs_no_token(host):
    assert is_loopback(host)
    require_token_beyond_loopback(host, None)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.5", "forecasts.plant.example"])
def test_listening_beyond_loopback_needs_a_token(host):
    assert not is_loopback(host)
    with pytest.raises(PowercastError, match="POWERCAST_API_TOKEN"):
        require_token_beyond_loopback(host, None)
    require_token_beyond_loopback(host, TOKEN)


def test_serve_refuses_all_interfaces_without_a_token(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        "DATABASE_URL": "postgresql://x@127.0.0.1:1/none",
    }
    result = subprocess.run(
        [sys.executable, "-m", "powercast", "serve", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: refusing to listen on 0.0.0.0 without a token"), lines
