"""One `train_models` DAG run next to the same training from the CLI: Airflow's orchestration overhead as a ratio,
and Airflow's memory while it idles.

    python -m benchmarks.airflow_train [--machines 2] [--history-days 3] [--repeat 2] [--models xgb]

Uses the data directory and ports of the environment (POWERCAST_*; point POWERCAST_DATA_DIR at a scratch
directory). Brings the stack up there when it is not (`powercast up`), then alternates, `--repeat` times each:
`powercast train --models M --days D --windows 1`, and a `train_models` run with the same models, days and windows
triggered through Airflow's REST API as a user would, timed from the trigger until the run succeeded (after any
run of it in progress has ended). Both train, log to MLflow and register the best as the challenger through
`powercast.jobs.training`; the DAG adds the scheduler's latency, its bookkeeping and a process per task.
Prints the medians and their ratio, then the memory (PSS and RSS) of Airflow's process tree. `--keep` leaves the
stack running (default: `down` when this script brought it up).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request

from benchmarks.runtime import memory_mb, process_tree
from powercast.config import Settings
from powercast.stack.airflow import ADMIN, Airflow


def timed(command: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command[:4])} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return time.perf_counter() - start


def api(airflow: Airflow, method: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
    request = urllib.request.Request(
        f"{airflow.url}{path}",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the local Airflow's http URL
        return json.loads(response.read() or b"{}")


def wait_until_idle(airflow: Airflow, token: str) -> None:
    while api(airflow, "GET", "/api/v2/dags/train_models/dagRuns?state=running&state=queued", token=token)[
        "total_entries"
    ]:
        time.sleep(2)


def dag_run(airflow: Airflow, token: str, conf: dict) -> float:
    """Seconds from triggering `train_models` until its run succeeded."""
    wait_until_idle(airflow, token)
    start = time.perf_counter()
    run = api(airflow, "POST", "/api/v2/dags/train_models/dagRuns", {"logical_date": None, "conf": conf}, token)
    state = run["state"]
    while state not in ("success", "failed"):
        time.sleep(0.5)
        state = api(airflow, "GET", f"/api/v2/dags/train_models/dagRuns/{run['dag_run_id']}", token=token)["state"]
    if state != "success":
        raise SystemExit(f"train_models run {run['dag_run_id']} failed: see the Airflow UI at {airflow.url}")
    return time.perf_counter() - start


def powercast(*args: str) -> list[str]:
    return [sys.executable, "-m", "powercast", *args]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--machines", type=int, default=2)
    parser.add_argument("--history-days", default="3")
    parser.add_argument("--models", default="xgb")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="leave the stack running")
    args = parser.parse_args()
    settings = Settings()
    airflow = Airflow(settings)
    print(f"data directory {settings.resolved_data_dir}; {os.cpu_count()} CPUs; load {os.getloadavg()[0]:.1f}")
    brought_up = airflow.service().running() is None
    if brought_up:
        print("bringing the stack up ...", flush=True)
        timed(powercast("up", "--machines", str(args.machines), "--history-days", args.history_days, "--windows", "1"))
    models, days = args.models.split(","), float(args.history_days)
    cli = powercast("train", "--models", args.models, "--days", str(days), "--windows", "1")
    conf = {"models": models, "days": days, "windows": 1}
    login = {"username": ADMIN, "password": airflow.admin_password()}
    token = api(airflow, "POST", "/auth/token", login)["access_token"]
    api(airflow, "PATCH", "/api/v2/dags/train_models", {"is_paused": False}, token)
    times: dict[str, list[float]] = {"cli": [], "dag": []}
    for round_ in range(args.repeat):
        times["cli"].append(timed(cli))
        times["dag"].append(dag_run(airflow, token, conf))
        print(f"round {round_ + 1}: CLI {times['cli'][-1]:.1f} s, DAG {times['dag'][-1]:.1f} s", flush=True)
    cli_s, dag_s = statistics.median(times["cli"]), statistics.median(times["dag"])
    print(f"\ntrain {args.models} on {days:g} days of {args.machines} machines, 1 window (median of {args.repeat}):")
    print(f"  powercast train            {cli_s:6.1f} s")
    print(f"  train_models DAG run       {dag_s:6.1f} s")
    print(f"  ratio DAG / CLI            {dag_s / cli_s:6.2f}x")
    record = airflow.service().running()
    if record is not None:
        time.sleep(20)  # the DAG runs above are over; Airflow idles
        procs = process_tree(record.pid)
        rss, pss = memory_mb(procs)
        print(f"\nAirflow idle: {len(procs)} processes, PSS {pss:.0f} MB, RSS {rss:.0f} MB")
    if brought_up and not args.keep:
        timed(powercast("down"))


if __name__ == "__main__":
    main()
