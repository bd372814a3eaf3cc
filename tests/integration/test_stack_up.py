"""The whole stack for real (slow): `powercast up` on free ports with two machines and three days of history, every URL
answers, forecast rows appear; the ingestor killed with SIGKILL is restarted by the supervisor with no reading lost
or added; a second `up` trains nothing; `down` leaves no process behind."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import psutil
import pytest

from powercast.db.connection import connect
from powercast.names import FORECASTS_TABLE
from powercast.simulator.fleet import build_fleet
from powercast.simulator.history import long_readings
from powercast.stack.probes import http_ok
from powercast.stack.system import settings_env

pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]

MACHINES, SEED, INTERVAL_S, ANOMALY_RATE = 2, 42, 10, 0.2  # the simulator's defaults, as `up` runs it
HISTORY_DAYS = "3"  # on weekdays enough for the first model to beat persistence and become champion


def _run(env, *args, timeout=1800) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "powercast", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def _serving_health(port: int) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as response:
            return response.status, json.load(response)["status"]
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)["status"]


def _status(env) -> dict[str, dict]:
    result = _run(env, "status", "--json", timeout=120)
    return {s["name"]: s for s in json.loads(result.stdout)["services"]}


def _wait(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(2)
    raise AssertionError(f"{what} within {timeout:.0f} s")


def _query(url: str, sql: str, args=()):
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchall()
    finally:
        conn.close()


def _ours(data_dir: str) -> list[psutil.Process]:
    """Processes started for this data directory (by their environment or command line)."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline", "environ"]):
        try:
            env = proc.info["environ"] or {}
            if env.get("POWERCAST_DATA_DIR") == data_dir or data_dir in " ".join(proc.info["cmdline"] or []):
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return [p for p in found if p.pid != os.getpid()]


def test_up_supervise_and_down(make_settings):
    s = make_settings()
    data_dir = str(s.resolved_data_dir)
    env = {k: v for k, v in os.environ.items() if not k.startswith("POWERCAST_")}
    env.pop("DATABASE_URL", None)
    env.pop("MLFLOW_TRACKING_URI", None)
    env.update(settings_env(s))
    try:
        up = _run(env, "up", "--machines", str(MACHINES), "--history-days", HISTORY_DAYS, "--windows", "1")
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        # Promotion judges the latest hours: on a weekend morning a model trained on 3 days of shift work rightly
        # loses to persistence, and then the service runs without a model and says why.
        outcome = re.search(r"^promotion: (\w+):", up.stdout, re.MULTILINE).group(1)
        promoted = outcome == "promoted"
        assert promoted or "the forecasting service has no model" in up.stdout

        urls = [
            f"http://127.0.0.1:{s.dash_port}/",
            f"http://127.0.0.1:{s.serving_port}/docs",
            f"http://127.0.0.1:{s.ingest_metrics_port}/metrics",
            f"{s.tracking_uri}/health",
            f"http://127.0.0.1:{s.airflow_port}/api/v2/monitor/health",
        ]
        assert [u for u in urls if not http_ok(u, timeout=10)] == []
        for url in urls[:3]:
            assert url.rstrip("/").removesuffix("/docs").removesuffix("/metrics") in up.stdout
        status = _status(env)
        assert {n: (r["state"], r["healthy"]) for n, r in status.items() if n != "postgres"} == {
            n: ("running", True) for n in ("kafka", "mlflow", "airflow", "supervisor", "ingest", "simulate", "dash")
        } | {"serve": ("running", promoted)}

        url = s.app_database_url
        if promoted:
            _wait(
                lambda: _query(url, f"SELECT count(DISTINCT machine_id) FROM {FORECASTS_TABLE}")[0][0] == MACHINES,
                180,
                "a forecast for every machine",
            )
        else:
            assert _serving_health(s.serving_port) == (503, "no_model")

        # SIGKILL the ingestor: the supervisor restarts it, and the readings around the kill are exactly the
        # simulator's (it is deterministic by seed: the same readings a broker-free replay computes)
        before = status["ingest"]
        killed_at = datetime.now(UTC)
        os.kill(before["pid"], signal.SIGKILL)
        after = _wait(
            lambda: (r := _status(env)["ingest"])["pid"] not in (None, before["pid"]) and r["healthy"] and r,
            120,
            "the ingestor restarted",
        )
        assert after["restarts"] == 1 and after["last_exit"].startswith("killed by SIGKILL")
        assert "killed by SIGKILL" in open(after["log_file"]).read()

        start = (killed_at - timedelta(minutes=2)).replace(second=0, microsecond=0)
        now = datetime.now(UTC)
        end = now.replace(second=now.second // INTERVAL_S * INTERVAL_S, microsecond=0) + timedelta(seconds=30)
        slowest = "SELECT min(last) FROM (SELECT max(ts) AS last FROM readings GROUP BY machine_id, sensor) AS s"
        _wait(lambda: _query(url, slowest)[0][0] >= end, 180, "every sensor's readings past the restart")
        stored = _query(url, "SELECT machine_id, sensor, ts FROM readings WHERE ts >= %s AND ts < %s", (start, end))
        expected = long_readings(
            build_fleet(MACHINES, SEED), start, end, seed=SEED, interval_s=INTERVAL_S, anomaly_rate=ANOMALY_RATE
        )
        columns = expected[["machine_id", "sensor", "ts"]].itertuples(index=False)
        expected_keys = {(machine, sensor, ts.to_pydatetime()) for machine, sensor, ts in columns}
        assert len(stored) == len(set(stored))
        assert set(stored) == expected_keys

        again = _run(env, "up", "--machines", str(MACHINES), "--history-days", HISTORY_DAYS, "--windows", "1")
        assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
        assert "backfilling" not in again.stdout
        # without a champion a second `up` trains again
        assert "no training" in again.stdout if promoted else "promotion:" in again.stdout
    finally:
        down = _run(env, "down", timeout=600)
    assert down.returncode == 0, down.stdout + down.stderr
    time.sleep(2)
    assert [" ".join(p.cmdline()[:3]) for p in _ours(data_dir) if p.is_running()] == []
