"""Time from a fresh clone to the first forecast on screen, as a new user gets there.

    python -m benchmarks.fresh_clone [--machines N --history-days D] [--keep]

Clones this checkout's HEAD into a scratch directory (no .venv, no .data there), then times, in that clone and
on free ports:
  - `make bootstrap`: the virtual environment and powercast itself, from the lock (uv's download cache, when this
    machine has one, makes this shorter than on a machine that never downloaded the wheels: said in the output);
  - `make up` (or `powercast up -n N --history-days D` when given): PostgreSQL, Kafka (its jars fetched with
    Maven into the clone's .data/cache), MLflow, backfill, features, first training and promotion, the services,
    Airflow, until the URLs are printed;
  - from the URLs to the forecast on screen: a user is added, a headless Chromium logs in to the control center
    and reloads the Fleet page until every machine's row shows an issued forecast ("v1 · issued ...").
Prints the three times and their sum, saves a screenshot of that page, then `down --purge --yes` and removes the
clone (`--keep` leaves both).

Target (issue 14): a forecast for every machine in Dash within two minutes of the URLs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from powercast.stack.process import free_port

REPO = Path(__file__).resolve().parents[1]
PORT_VARIABLES = (
    "POWERCAST_KAFKA_PORT",
    "POWERCAST_KAFKA_CONTROLLER_PORT",
    "POWERCAST_POSTGRES_PORT",
    "POWERCAST_MLFLOW_PORT",
    "POWERCAST_AIRFLOW_PORT",
    "POWERCAST_DASH_PORT",
    "POWERCAST_SERVING_PORT",
    "POWERCAST_INGEST_METRICS_PORT",
    "POWERCAST_ALERTS_PORT",
)
USER, PASSWORD = "benchmark", "fresh-clone-benchmark-password"


def clean_environment() -> dict[str, str]:
    """This process's environment without powercast's settings or a virtual environment, plus free ports."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("POWERCAST_", "AIRFLOW_", "MLFLOW_")) and k not in ("DATABASE_URL", "VIRTUAL_ENV")
    }
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if "/.venv/" not in p)
    env.update({name: str(free_port()) for name in PORT_VARIABLES})
    return env


def timed(command: list[str], cwd: Path, env: dict[str, str], log: Path, stdin: str | None = None) -> float:
    start = time.perf_counter()
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(command)}\n")
        out.flush()
        result = subprocess.run(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, input=stdin, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed (exit {result.returncode}); see {log}")
    return time.perf_counter() - start


def machines_shown(driver) -> tuple[int, int]:
    """(rows with an issued forecast, rows) of the Fleet table as the browser shows it."""
    from selenium.webdriver.common.by import By

    rows = driver.find_elements(By.CSS_SELECTOR, ".fleet tbody tr")
    with_forecast = sum(1 for row in rows if " · issued " in row.text)
    return with_forecast, len(rows)


def wait_for_forecasts_on_screen(base: str, machines: int, screenshot: Path, timeout: float = 600) -> float:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    options = webdriver.ChromeOptions()
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--window-size=1440,1000"):
        options.add_argument(flag)
    options.binary_location = shutil.which("chromium") or shutil.which("chromium-browser") or "chromium"
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "chromedriver"), options=options)
    start = time.perf_counter()
    try:
        driver.get(f"{base}/login")
        driver.find_element(By.ID, "username").send_keys(USER)
        driver.find_element(By.ID, "password").send_keys(PASSWORD)
        driver.find_element(By.ID, "login-submit").click()
        shown = (0, 0)
        while time.perf_counter() - start < timeout:
            driver.get(f"{base}/")
            deadline = time.perf_counter() + 10
            while time.perf_counter() < deadline:
                try:
                    shown = machines_shown(driver)
                except Exception:  # the table re-renders while Dash updates
                    shown = (0, 0)
                if shown[1] >= machines and shown[0] >= machines:
                    driver.save_screenshot(str(screenshot))
                    return time.perf_counter() - start
                time.sleep(0.5)
        driver.save_screenshot(str(screenshot))
        raise SystemExit(f"after {timeout:.0f} s the Fleet page showed forecasts for {shown[0]} of {shown[1]} rows")
    finally:
        driver.quit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--machines", type=int, help="fleet size for `powercast up -n` (default: make up's, 10)")
    parser.add_argument("--history-days", type=float, help="history for `powercast up` (default: make up's, 14)")
    parser.add_argument("--keep", action="store_true", help="leave the clone and its stack running")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="powercast-clone-"))
    scratch.chmod(0o755)  # the embedded PostgreSQL runs as another user when started as root
    clone = scratch / "powercast"
    log = scratch / "benchmark.log"
    env = clean_environment()
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=clone, capture_output=True, text=True).stdout
    uv_cache = Path(os.environ.get("UV_CACHE_DIR", Path.home() / ".cache" / "uv"))
    m2 = Path.home() / ".m2" / "repository" / "org" / "apache" / "kafka"
    print(
        f"clone of {head.strip()} in {clone}; uv cache {'present' if uv_cache.exists() else 'absent'}, "
        f"Kafka in ~/.m2 {'present' if m2.exists() else 'absent'}; log {log}"
    )

    machines = args.machines or 10
    try:
        bootstrap = timed(["make", "bootstrap"], clone, env, log)
        print(f"make bootstrap                 {bootstrap:7.1f} s")
        if args.machines or args.history_days is not None:
            up_command = [".venv/bin/powercast", "up", "-n", str(machines)]
            if args.history_days is not None:
                up_command += ["--history-days", str(args.history_days)]
        else:
            up_command = ["make", "up"]
        up = timed(up_command, clone, env, log)
        print(f"{' '.join(up_command):30s} {up:7.1f} s   (to the printed URLs)")
        timed([".venv/bin/powercast", "users", "add", USER, "--password-stdin"], clone, env, log, PASSWORD + "\n")
        screenshot = scratch / "fleet-first-forecast.png"
        on_screen = wait_for_forecasts_on_screen(f"http://127.0.0.1:{env['POWERCAST_DASH_PORT']}", machines, screenshot)
        print(f"URLs -> every machine's forecast on the Fleet page {on_screen:7.1f} s   (target < 120 s)")
        print(f"fresh clone -> forecast on screen {bootstrap + up + on_screen:7.1f} s   (screenshot {screenshot})")
    finally:
        if not args.keep:
            if (clone / ".venv" / "bin" / "powercast").exists():
                subprocess.run(
                    [".venv/bin/powercast", "down", "--purge", "--yes"], cwd=clone, env=env, capture_output=True
                )
            shutil.rmtree(clone, ignore_errors=True)


if __name__ == "__main__":
    main()
