"""One description of a service the local runtime runs, and the one start/stop/inspect sequence they all share.

Kafka, MLflow, Airflow, the supervisor, the ingestor, the simulator, the forecasting service and the control
center are each a `ManagedService`: a command, its environment, a log file, a readiness probe and a health
probe, the ports it must find free, and an external override (an existing cluster or server named by a
setting, in which case nothing is started or stopped here). Each runs in a session of its own, so a stop
reaches every process it started: SIGTERM to the whole group, SIGKILL to what is left after `stop_timeout`.

The process is known by a `ProcessRecord` (pid and start time), so a reused pid is never signalled, and a
start happens under an exclusive lock, so two `powercast up`s at once cannot both start a service.
(PostgreSQL is not one of these: `pg_ctl` manages its server, see `powercast.stack.postgres`.)
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from powercast.config import Settings
from powercast.errors import PowercastError
from powercast.stack import locks, process
from powercast.stack.records import ProcessRecord, read_record, write_record

Probe = Callable[[], bool]


@dataclass(frozen=True)
class Port:
    """A port the service listens on and the setting that changes it (named when the port is taken)."""

    host: str
    port: int
    setting: str


def run_dir(settings: Settings) -> Path:
    """Process records, locks and the supervisor's state."""
    return settings.resolved_data_dir / "run"


def log_dir(settings: Settings) -> Path:
    return settings.resolved_data_dir / "logs"


@dataclass(frozen=True)
class ManagedService:
    name: str
    command: Callable[[], list[str]]  # built at each start (a restart may differ, e.g. the simulator's gap)
    run_dir: Path
    log_file: Path
    url: str  # where it answers (a URL, or host:port)
    health: Probe  # answers now (quick: a second or two at most)
    ready: Probe | None = None  # a start waits for it; None: the health probe
    environment: Callable[[], dict[str, str]] = field(default=dict)  # added to this process's environment
    cwd: Path | None = None
    ports: tuple[Port, ...] = ()
    prepare: Callable[[], None] | None = None  # once before each start (downloads, config files, databases)
    external: str | None = None  # set: the service runs elsewhere (what the setting names) and is not ours
    always_on: bool = False  # the supervisor restarts it when it exits
    start_timeout: float = 60.0
    stop_timeout: float = 30.0

    @property
    def record_file(self) -> Path:
        return self.run_dir / f"{self.name}.json"

    @property
    def lock_file(self) -> Path:
        return self.run_dir / f"{self.name}.lock"

    def running(self) -> ProcessRecord | None:
        """The record of our process when it runs (identity checked); None otherwise."""
        return read_record(self.record_file)

    def healthy(self) -> bool:
        return self.health()

    def spawn(self) -> tuple[ProcessRecord, subprocess.Popen | None]:
        """Start the process unless ours runs, without waiting for it to be ready.

        Returns its record, and the `Popen` when this call started it (None when it already ran).
        """
        if self.external is not None:
            raise PowercastError(f"{self.name} is external ({self.external})", "nothing to start here")
        with locks.exclusive(self.lock_file, timeout=self.start_timeout, what=f"starting {self.name}"):
            existing = self.running()
            if existing is not None:
                return existing, None
            for port in self.ports:
                process.require_free_port(port.host, port.port, port.setting)
            if self.prepare is not None:
                self.prepare()
            command = self.command()
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            with open(self.log_file, "a") as log:
                log.write(f"--- powercast: starting {self.name} at {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
            proc = process.start_detached(
                command, log_file=self.log_file, env={**os.environ, **self.environment()}, cwd=self.cwd
            )
            record = ProcessRecord.of(proc.pid)
            write_record(self.record_file, record)
            return record, proc

    def start(self) -> ProcessRecord | None:
        """Start the service unless it runs, and wait until it is ready; None for an external service."""
        if self.external is not None:
            return None
        record, proc = self.spawn()
        ready = self.ready or self.health
        try:
            process.wait_until(
                ready,
                timeout=self.start_timeout,
                what=self.name if proc is not None else f"{self.name} (pid {record.pid}, started earlier)",
                alive=(lambda: proc.poll() is None) if proc is not None else record.alive,
                log_file=self.log_file,
            )
        except PowercastError:
            if proc is not None:
                self.stop()
            raise
        return record

    def stop(self) -> bool:
        """Stop our process and its whole group; False when it was not running (or is external)."""
        if self.external is not None:
            return False
        record = self.running()
        if record is None:
            return False
        stop_process(record, timeout=self.stop_timeout)
        self.record_file.unlink(missing_ok=True)
        return True


def stop_process(record: ProcessRecord, *, timeout: float) -> None:
    """SIGTERM the group `record` leads, SIGKILL it after `timeout`; nothing when the pid is no longer it.

    The identity check comes right before the first signal. Once the group is signalled its id cannot be reused
    while any member lives, so the escalation to SIGKILL reaches the same group.
    """
    if not record.alive():
        return
    process.stop_group(record.pid, timeout=timeout)
