"""`powercast dash`: the control center (Dash, in `dash_app/` at the repository root), on loopback by default.

`powercast` never imports Dash: this command starts `python -m dash_app` as a child process with the repository
root on PYTHONPATH and the settings it needs in its environment, and waits for it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from powercast.commands._context import settings
from powercast.errors import PowercastError

if TYPE_CHECKING:
    from powercast.config import Settings

REPO = Path(__file__).resolve().parents[3]
HOST = "127.0.0.1"


def dash_environment(s: Settings, repo: Path = REPO, base: dict[str, str] | None = None) -> dict[str, str]:
    """The child's environment: `base` (default: this process's) plus the resolved settings the app reads."""
    env = dict(os.environ if base is None else base)
    paths = [str(repo), str(repo / "src"), *[p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    env.update(
        {
            "DATABASE_URL": s.app_database_url,
            "MLFLOW_TRACKING_URI": s.tracking_uri,
            "POWERCAST_DATA_DIR": str(s.resolved_data_dir),
            "POWERCAST_MLFLOW_AUTH": str(s.mlflow_auth).lower(),
            "POWERCAST_DASH_PORT": str(s.dash_port),
            "POWERCAST_AIRFLOW_URL": s.airflow_base_url,
            "POWERCAST_AIRFLOW_USERNAME": s.airflow_username,
            "POWERCAST_DASH_SESSION_HOURS": str(s.dash_session_hours),
        }
    )
    if s.airflow_password:
        env["POWERCAST_AIRFLOW_PASSWORD"] = s.airflow_password
    return env


def dash(
    ctx: typer.Context,
    host: str = typer.Option(HOST, help="Address to listen on (0.0.0.0 in a container)."),
) -> None:
    """Serve the control center (fleet, machine, review and models pages) on http://127.0.0.1:POWERCAST_DASH_PORT;
    add users first with `powercast users add NAME --role admin`."""
    from powercast.stack.process import require_free_port

    s = settings(ctx)
    if not (REPO / "dash_app" / "__main__.py").is_file():
        raise PowercastError(
            f"the control center (dash_app/) is not next to {REPO / 'src'}",
            "run `powercast dash` from a checkout of the repository",
        )
    require_free_port(host, s.dash_port, "POWERCAST_DASH_PORT")
    typer.echo(f"control center on http://{host}:{s.dash_port}")
    raise typer.Exit(run_child([sys.executable, "-m", "dash_app", "--host", host], dash_environment(s), REPO))


def run_child(cmd: list[str], env: dict[str, str], cwd: Path) -> int:
    """Run the app and wait for it; SIGTERM and Ctrl-C sent to this process are passed on to it. Its exit code
    (128 + the signal number when a signal ended it)."""
    child = subprocess.Popen(cmd, env=env, cwd=cwd)  # noqa: S603 - argv list without a shell: this interpreter and dash_app
    previous = signal.signal(signal.SIGTERM, lambda signum, _frame: child.send_signal(signum))
    try:
        while True:
            try:
                code = child.wait()
                break
            except KeyboardInterrupt:
                child.send_signal(signal.SIGINT)
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 128 - code if code < 0 else code
