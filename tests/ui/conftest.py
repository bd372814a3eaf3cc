"""Browser tests of the control center: one Dash server per session (in a thread, on the session's PostgreSQL,
seeded with a small fleet), a local MLflow registry with a champion and a challenger, and one headless Chromium.

Skipped when Chromium or its driver is missing (scripts/bootstrap.sh installs Debian's `chromium` and
`chromium-driver` when it runs as root)."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path

import pytest

from tests.ui.seed import seed_fleet

REPO = Path(__file__).resolve().parents[2]
# Where the browser tests save a screenshot of each page: .data/screenshots (git-ignored) unless
# POWERCAST_SCREENSHOT_DIR says otherwise; `POWERCAST_SCREENSHOT_DIR=docs/screenshots` refreshes the README's.
SCREENSHOTS = REPO / os.environ.get("POWERCAST_SCREENSHOT_DIR", ".data/screenshots")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
USERS = {"ada": ("admin", "correct horse battery"), "olga": ("operator", "staple gun 42")}


def pytest_collection_modifyitems(items):
    if CHROMIUM and CHROMEDRIVER:
        return
    skip = pytest.mark.skip(reason="needs chromium and chromedriver (apt-get install chromium chromium-driver)")
    for item in items:
        if "/ui/" in str(item.fspath):
            item.add_marker(skip)


def _registry(tmp: Path) -> str:
    """A local MLflow registry (SQLite) with v1 as champion and v2 as challenger, each with a logged run."""
    from mlflow import MlflowClient

    from powercast.names import CHALLENGER_ALIAS, CHAMPION_ALIAS, MLFLOW_EXPERIMENT, REGISTERED_MODEL

    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment = client.create_experiment(MLFLOW_EXPERIMENT, artifact_location=str(tmp / "artifacts"))
    client.create_registered_model(REGISTERED_MODEL)
    for version, (mae, ratio, coverage, rejected) in {
        "1": (2910.0, 0.81, 0.78, 0.3),
        "2": (2650.0, 0.74, 0.81, 0.2),
    }.items():
        run = client.create_run(experiment)
        for name, value in (
            ("xgb.mae", mae),
            ("xgb.ratio_to_persistence", ratio),
            ("xgb.coverage", coverage),
            ("feedback.rejected_rate", rejected),
        ):
            client.log_metric(run.info.run_id, name, value)
        client.set_terminated(run.info.run_id)
        client.create_model_version(
            REGISTERED_MODEL,
            source=str(tmp / "artifacts" / version),
            run_id=run.info.run_id,
            tags={"model_name": "xgb", "data_end": f"2026-12-0{version} 06:00:00+00:00"},
        )
    client.set_registered_model_alias(REGISTERED_MODEL, CHAMPION_ALIAS, "1")
    client.set_registered_model_alias(REGISTERED_MODEL, CHALLENGER_ALIAS, "2")
    return uri


def _promotion(url: str) -> None:
    from powercast.db.connection import connect
    from powercast.training.promotion_log import PromotionRecord, record

    conn = connect(url)
    try:
        record(
            conn,
            PromotionRecord(
                "promote", "cli:ada", None, "1", None, 2910.0, 3600.0, 0.02, "mae", "promoted", "first champion", "1"
            ),
        )
    finally:
        conn.close()


@pytest.fixture(scope="session")
def control_center(postgres):
    """(base URL, settings, seeded fleet) of a running control center."""
    from werkzeug.serving import make_server

    from dash_app.app import create_app
    from powercast.db.connection import connect
    from powercast.feedback.users import add_user
    from powercast.stack.process import free_port
    from tests.mlops.env import restored_env

    url = postgres.app_database_url
    fleet = seed_fleet(url, prefix="UI", machines=6, hours=6)
    conn = connect(url)
    try:
        for name, (role, password) in USERS.items():
            add_user(conn, name, password, role, replace=True)
    finally:
        conn.close()
    _promotion(url)
    tmp = Path(tempfile.mkdtemp(prefix="powercast-ui-"))
    with restored_env("MLFLOW_TRACKING_URI"):
        settings = postgres.model_copy(
            update={"mlflow_tracking_uri": _registry(tmp), "airflow_port": free_port(), "airflow_password": "x"}
        )
        app = create_app(settings)
        server = make_server("127.0.0.1", free_port(), app.server, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{server.server_port}", settings, fleet
        server.shutdown()
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--window-size=1440,1000",
    ):
        options.add_argument(flag)
    options.binary_location = CHROMIUM
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


@pytest.fixture(scope="session")
def screenshot():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def save(driver, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        driver.save_screenshot(str(path))
        return path

    return save
