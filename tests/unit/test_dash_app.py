"""The control center's shell: which requests need a login, safe redirects, and how `powercast dash` starts it."""

from pathlib import Path

import pytest

from dash_app import auth
from powercast.commands.dash import dash_environment
from powercast.config import Settings


@pytest.mark.parametrize(
    ("path", "public", "page"),
    [
        ("/login", True, True),
        ("/assets/style.css", True, True),
        ("/_dash-component-suites/dash/dcc/bundle.js", True, False),
        ("/", False, True),
        ("/review", False, True),
        ("/_dash-layout", False, False),
        ("/_dash-dependencies", False, False),
        ("/_dash-update-component", False, False),
    ],
)
def test_only_the_login_form_and_static_files_are_public(path, public, page):
    assert auth.is_public(path) is public
    assert auth.is_page(path) is page


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/review", "/review"),
        ("/machine?id=M-1", "/machine?id=M-1"),
        ("//evil.example", "/"),
        ("https://x", "/"),
        (None, "/"),
    ],
)
def test_login_redirects_stay_on_this_site(target, expected):
    assert auth.safe_next(target) == expected


def test_login_page_escapes_what_it_echoes():
    page = auth.login_page('/"><script>', auth.WRONG_LOGIN, "<b>")
    assert "<script>" not in page and "&lt;b&gt;" in page and auth.WRONG_LOGIN in page


def test_dash_runs_as_a_child_with_the_settings_in_its_environment(tmp_path):
    settings = Settings(_env_file=None, data_dir=tmp_path, dash_port=8123, database_url="postgresql://u@h/db")
    env = dash_environment(settings, repo=Path("/repo"), base={"PYTHONPATH": "/elsewhere", "HOME": "/root"})
    assert env["PYTHONPATH"].split(":")[:3] == ["/repo", "/repo/src", "/elsewhere"]
    assert env["POWERCAST_DASH_PORT"] == "8123" and env["DATABASE_URL"] == "postgresql://u@h/db"
    assert env["POWERCAST_AIRFLOW_URL"] == f"http://127.0.0.1:{settings.airflow_port}" and env["HOME"] == "/root"


def test_the_child_gets_the_termination_signal(tmp_path):
    import os
    import signal
    import sys
    import threading
    import time

    from powercast.commands.dash import run_child

    ready = tmp_path / "ready"
    script = f"import pathlib, time; pathlib.Path({str(ready)!r}).touch(); time.sleep(60)"

    def terminate_when_ready():
        while not ready.exists():
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=terminate_when_ready, daemon=True).start()
    started = time.monotonic()
    assert run_child([sys.executable, "-c", script], dict(os.environ), tmp_path) == 128 + signal.SIGTERM
    assert time.monotonic() - started < 30
