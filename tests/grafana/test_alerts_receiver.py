"""The webhook receiver against the real `alerts` table: a Grafana notification is stored once, however often it
arrives; the resolved notification updates the row; a bad body gets 400 with the reason, never 500."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from powercast.errors import PowercastError
from powercast.monitoring.alerts_app import WEBHOOK_PATH, create_app
from powercast.stack.process import free_port
from tests.unit.test_alerts import GRAFANA_EXAMPLE


@pytest.fixture
def client(grafana_fleet):
    conn = grafana_fleet.admin()
    with conn.cursor() as cur:
        cur.execute("DELETE FROM alerts")
    conn.commit()
    conn.close()
    with TestClient(create_app(grafana_fleet.admin_url), raise_server_exceptions=False) as test_client:
        yield test_client


def _rows(fleet) -> list[tuple]:
    conn = fleet.admin()
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT fingerprint, status, ends_at IS NULL, alertname, machine_id, severity FROM alerts ORDER BY 1"
            )
            return cur.fetchall()
    finally:
        conn.close()


def _powercast_notification(status: str = "firing") -> dict:
    body = copy.deepcopy(GRAFANA_EXAMPLE)
    body["alerts"] = [copy.deepcopy(GRAFANA_EXAMPLE["alerts"][0])]
    alert = body["alerts"][0]
    alert["labels"] = {
        "alertname": "Sensor above its machine type's alarm limit",
        "grafana_folder": "powercast",
        "machine": "M-003",
        "machine_type": "hydraulic_press",
        "sensor": "temperature",
        "severity": "critical",
    }
    alert["status"] = body["status"] = status
    if status == "resolved":
        alert["endsAt"] = "2021-10-12T10:20:03.5Z"
    return body


def test_a_notification_posted_twice_is_stored_once(client, grafana_fleet):
    first = client.post(WEBHOOK_PATH, content=json.dumps(GRAFANA_EXAMPLE))
    assert first.status_code == 200 and first.json() == {"received": 2, "inserted": 2, "updated": 0, "unchanged": 0}
    again = client.post(WEBHOOK_PATH, content=json.dumps(GRAFANA_EXAMPLE))
    assert again.status_code == 200 and again.json()["inserted"] == 0 and again.json()["unchanged"] == 2
    assert _rows(grafana_fleet) == [
        ("bc97ff14869b13e3", "resolved", False, "High CPU usage", None, None),
        ("c6eadffa33fcdf37", "firing", True, "High memory usage", None, None),
    ]


def test_the_resolved_notification_updates_the_episode(client, grafana_fleet):
    assert client.post(WEBHOOK_PATH, json=_powercast_notification()).json()["inserted"] == 1
    resolved = client.post(WEBHOOK_PATH, json=_powercast_notification("resolved"))
    assert resolved.json() == {"received": 1, "inserted": 0, "updated": 1, "unchanged": 0}
    assert client.post(WEBHOOK_PATH, json=_powercast_notification("resolved")).json()["unchanged"] == 1
    ((_, status, still_firing, _, machine, severity),) = _rows(grafana_fleet)
    assert (status, still_firing, machine, severity) == ("resolved", False, "M-003", "critical")
    latest = client.get("/alerts").json()["alerts"]
    assert [a["machine_id"] for a in latest] == ["M-003"] and latest[0]["labels"]["sensor"] == "temperature"


@pytest.mark.parametrize(
    "body", [b"", b"garbage", b"[1, 2]", b'{"alerts": "none"}', b'{"alerts": [{"status": "firing"}]}', b"\xff"]
)
def test_garbage_gets_400_with_a_short_reason(client, grafana_fleet, body):
    response = client.post(WEBHOOK_PATH, content=body)
    assert response.status_code == 400
    assert 0 < len(response.json()["error"]) < 80
    assert _rows(grafana_fleet) == []


def test_an_unreachable_database_is_503_not_500(grafana_fleet):
    def down(url):
        raise PowercastError("cannot reach PostgreSQL", "start it")

    with TestClient(create_app(grafana_fleet.admin_url, connector=down), raise_server_exceptions=False) as c:
        assert c.post(WEBHOOK_PATH, json=GRAFANA_EXAMPLE).status_code == 503
        assert c.get("/health").status_code == 503
        assert c.post(WEBHOOK_PATH, content=b"garbage").status_code == 400


def test_an_unexpected_failure_is_503_not_500(grafana_fleet):
    def broken(url):
        raise RuntimeError("bug")

    with TestClient(create_app(grafana_fleet.admin_url, connector=broken), raise_server_exceptions=False) as c:
        response = c.post(WEBHOOK_PATH, json=GRAFANA_EXAMPLE)
    assert response.status_code == 503 and "RuntimeError" in response.json()["error"]


def test_powercast_alerts_serve_receives_on_its_port_and_stops_on_sigterm(grafana_fleet, tmp_path):
    conn = grafana_fleet.admin()
    with conn.cursor() as cur:
        cur.execute("DELETE FROM alerts")
    conn.commit()
    conn.close()
    port = free_port()
    env = {**os.environ, "DATABASE_URL": grafana_fleet.admin_url, "POWERCAST_ALERTS_PORT": str(port)}
    server = subprocess.Popen(
        [sys.executable, "-m", "powercast", "alerts", "serve"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        for _ in range(2):
            assert httpx.post(f"{url}{WEBHOOK_PATH}", json=GRAFANA_EXAMPLE, timeout=5).status_code == 200
        assert httpx.post(f"{url}{WEBHOOK_PATH}", content=b"{", timeout=5).status_code == 400
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
    # uvicorn shuts down cleanly, then re-raises the signal it caught
    assert server.returncode in (0, -signal.SIGTERM) and "Application shutdown complete" in output, output
    assert f"alerts receiver on http://127.0.0.1:{port}{WEBHOOK_PATH}" in output
    assert len(_rows(grafana_fleet)) == 2
