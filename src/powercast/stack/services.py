"""The always-on Python services of the local runtime (ingestor, simulator, forecaster), supervised by pid file.

Each runs `python -m powercast <command>` in a session of its own, logs to `<data_dir>/logs/<name>.log`
and is stopped with its whole process group (SIGTERM first, so it can drain and commit).
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

from powercast.config import Settings
from powercast.stack import process

SERVICES_STOP_TIMEOUT = 60.0  # the ingestor drains and commits its batch on SIGTERM


def http_ok(url: str, timeout: float = 2.0) -> bool:
    if not url.startswith(("http://", "https://")):
        return False
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - scheme checked above
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


@dataclass
class PythonService:
    name: str
    args: list[str]
    ready: Callable[[], bool] | None = None
    env: dict[str, str] = field(default_factory=dict)


class Supervisor:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.run_dir = settings.resolved_data_dir / "run"
        self.log_dir = settings.resolved_data_dir / "logs"

    def pid(self, name: str) -> int | None:
        return process.read_pid(self.run_dir / f"{name}.pid")

    def log_file(self, name: str):
        return self.log_dir / f"{name}.log"

    def start(self, service: PythonService, timeout: float = 60.0) -> int:
        """Start `service` unless it already runs; wait until it is ready; return its pid."""
        existing = self.pid(service.name)
        if existing is not None:
            return existing
        self.run_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.settings_env(), **service.env}
        proc = process.start_detached(
            [sys.executable, "-m", "powercast", *service.args],
            log_file=self.log_file(service.name),
            pid_file=self.run_dir / f"{service.name}.pid",
            env=env,
        )
        process.wait_until(
            service.ready or (lambda: True),
            timeout=timeout,
            what=service.name,
            alive=lambda: proc.poll() is None,
            log_file=self.log_file(service.name),
        )
        return proc.pid

    def stop(self, name: str, timeout: float = 30.0) -> bool:
        return process.stop_pid_file(self.run_dir / f"{name}.pid", timeout=timeout)

    def settings_env(self) -> dict[str, str]:
        """The settings as environment variables, so child processes see exactly what the parent saw."""
        env = {}
        for name, value in self.settings.model_dump().items():
            if value is None:
                continue
            key = {"database_url": "DATABASE_URL", "mlflow_tracking_uri": "MLFLOW_TRACKING_URI"}.get(
                name, f"POWERCAST_{name.upper()}"
            )
            env[key] = str(value)
        return env
