"""Resident memory of the forecasting service under a burst of the largest requests its limits accept.

    python -m benchmarks.serving_memory [--clients 8] [--shape readings]

Starts the service (uvicorn, default `POWERCAST_SERVING_*` limits) in a subprocess with a small XGBoost model
trained on simulated history, sends one small request to warm it up and takes its resident memory (VmRSS) as the
baseline, then sends `--clients` concurrent requests, each the largest body the limits accept (as many machines'
last 70 minutes of 10-second readings of four sensors as fit under `POWERCAST_SERVING_MAX_BODY_BYTES` and
`POWERCAST_SERVING_MAX_READINGS`), sampling the service's memory every 10 ms. Prints the baseline, the peak and
the rise, and the status of each request (200, or 503 for one that found every forecast slot busy for too long).

Target: a rise below 300 MB for 8 clients.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pandas as pd

from benchmarks.serving import request_bodies, ten_second_readings

MINUTES = 70


def serve(port: int) -> None:
    """The child process: train a small model and serve it until killed."""
    import uvicorn

    from powercast.models.xgb import XGBoostForecaster
    from powercast.scoring.model import ForecasterModel
    from powercast.serving.app import create_app
    from powercast.serving.champion import ChampionHolder
    from tests.simulated import minute_frame

    forecaster = XGBoostForecaster(n_estimators=30, stride=10, early_stopping_rounds=5)
    forecaster.fit(minute_frame(days=1, n_machines=3, seed=2))
    model = ForecasterModel(forecaster, forecaster.spec.to_dict(), forecaster.spec.min_history, "xgb")
    app = create_app(ChampionHolder(lambda: "1", lambda version: model), poll_s=None)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def rss_mb(pid: int) -> float:
    """Resident memory of process `pid` in MB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def largest_body(shape: str, max_bytes: int, max_readings: int) -> tuple[bytes, int, int]:
    """The largest request body of `shape` within both limits: (body, machines, readings)."""
    end = pd.Timestamp.now(tz="UTC").floor("min")
    best, machines = None, 1
    while True:
        readings = ten_second_readings(machines, MINUTES, seed=5, end=end)
        body = request_bodies(readings, [shape])[shape]
        if len(body) > max_bytes or len(readings) > max_readings:
            return best
        best, machines = (body, machines, len(readings)), machines + 1


def start(port: int) -> subprocess.Popen:
    child = subprocess.Popen([sys.executable, __file__, "--serve", str(port)], env=os.environ.copy())
    import httpx

    deadline = time.time() + 300
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return child
        except httpx.TransportError:
            pass
        if child.poll() is not None:
            raise RuntimeError("the service exited before it answered /health")
        time.sleep(0.5)
    child.kill()
    raise RuntimeError("the service did not answer /health within 300 s")


def burst(url: str, body: bytes, clients: int) -> list[int]:
    """`clients` concurrent POST /forecast of `body`; their status codes."""
    import httpx

    statuses: list[int] = []
    barrier = threading.Barrier(clients)

    def one() -> None:
        with httpx.Client(base_url=url, timeout=120) as client:
            barrier.wait()
            response = client.post("/forecast", content=body, headers={"content-type": "application/json"})
            statuses.append(response.status_code)

    threads = [threading.Thread(target=one) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--shape", choices=["readings", "columns"], default="readings")
    parser.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return

    import httpx

    from powercast.config import Settings
    from powercast.stack.process import free_port

    settings = Settings()
    body, machines, readings = largest_body(args.shape, settings.serving_max_body_bytes, settings.serving_max_readings)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    child = start(port)
    try:
        small = request_bodies(
            ten_second_readings(1, MINUTES, seed=6, end=pd.Timestamp.now(tz="UTC").floor("min")), [args.shape]
        )
        httpx.post(
            f"{url}/forecast", content=small[args.shape], headers={"content-type": "application/json"}
        ).raise_for_status()
        time.sleep(0.5)
        baseline = rss_mb(child.pid)
        peak, done = baseline, threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, rss_mb(child.pid))
                time.sleep(0.01)

        sampler = threading.Thread(target=sample)
        sampler.start()
        started = time.perf_counter()
        statuses = burst(url, body, args.clients)
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
        after = rss_mb(child.pid)
    finally:
        child.kill()
        child.wait()
    print(
        f"{args.clients} concurrent requests of {len(body) / 2**20:.2f} MiB ({args.shape}: {machines} machines, "
        f"{readings} readings), limits: body {settings.serving_max_body_bytes} B, "
        f"{settings.serving_max_readings} readings, {settings.serving_max_concurrent_forecasts} forecasts at once"
    )
    print(f"  statuses {dict(Counter(statuses))} in {seconds:.1f} s")
    print(f"  resident memory: baseline {baseline:.0f} MB, peak {peak:.0f} MB, after {after:.0f} MB")
    print(f"  rise {peak - baseline:.0f} MB   (target < 300 MB)")


if __name__ == "__main__":
    main()
