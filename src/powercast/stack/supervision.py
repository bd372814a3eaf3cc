"""The supervisor: keeps the always-on services running, restarts a crashed one with backoff, gives up on one that
keeps crashing.

`powercast up` does not start the always-on services itself: it adds them to `<run>/wanted.json` and the
supervisor (`powercast supervise`, one per data directory) starts them, so it is their parent and sees each exit
status. Every exit is logged with its status, in the supervisor's log and in the service's; the restart waits
`base_delay_s * 2**n` (n: restarts in the last `window_s`, at most `max_delay_s`); a service that already had
`max_restarts` restarts in that window is marked failed and left alone until the next `powercast up`. The state of
every service is kept in `<run>/supervision.json`, which `powercast status` reads.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from powercast.errors import PowercastError
from powercast.stack import locks
from powercast.stack.managed import ManagedService
from powercast.stack.records import ProcessRecord, write_json_atomically

log = logging.getLogger(__name__)

STATE_FILE = "supervision.json"  # (supervisor.json is its process record)
WANTED_FILE = "wanted.json"
HEARTBEAT_STALE_S = 10.0  # a supervisor whose state is older than this is not supervising

RUNNING, BACKOFF, FAILED, STARTING = "running", "backoff", "failed", "starting"


@dataclass(frozen=True)
class RestartPolicy:
    base_delay_s: float = 1.0
    max_delay_s: float = 30.0
    max_restarts: int = 5
    window_s: float = 120.0

    def delay(self, recent_restarts: int) -> float:
        return min(self.max_delay_s, self.base_delay_s * 2**recent_restarts)


@dataclass
class ServiceState:
    state: str = STARTING
    pid: int | None = None
    started_at: float | None = None
    restarts: int = 0  # since the supervisor took the service on
    recent_restarts: list[float] = field(default_factory=list)  # times of the restarts inside the window
    last_exit: str | None = None  # e.g. "killed by SIGKILL after 35 s"
    last_exit_status: int | None = None  # the exit code; negative: the signal; None: unknown
    last_exit_at: float | None = None
    next_start_at: float = 0.0
    failed_at: float | None = None


@dataclass(frozen=True)
class Wanted:
    services: tuple[str, ...] = ()
    options: dict = field(default_factory=dict)
    requested_at: float = 0.0


# the files `up`, `status` and the supervisor share -------------------------------------------------------------
def want(run_dir: Path, names: list[str], options: dict) -> float:
    """Ask the supervisor to keep `names` running (besides what it already keeps), with `options`; the time of
    the request. A service marked failed before this call is tried again."""
    with locks.exclusive(run_dir / f"{WANTED_FILE}.lock", timeout=30, what="the wanted services"):
        current = read_wanted(run_dir)
        services = tuple(dict.fromkeys([*current.services, *names]))
        requested_at = time.time()
        data = {"services": list(services), "options": options, "requested_at": requested_at}
        write_json_atomically(run_dir / WANTED_FILE, data)
    return requested_at


def failed_since(run_dir: Path, name: str, since: float) -> bool:
    """True when the supervisor marked `name` failed after `since`."""
    state = read_state(run_dir).get("services", {}).get(name, {})
    return state.get("state") == FAILED and float(state.get("failed_at") or 0) > since


def clear_wanted(run_dir: Path) -> None:
    (run_dir / WANTED_FILE).unlink(missing_ok=True)
    (run_dir / STATE_FILE).unlink(missing_ok=True)


def read_wanted(run_dir: Path) -> Wanted:
    try:
        data = json.loads((run_dir / WANTED_FILE).read_text())
        return Wanted(tuple(data["services"]), dict(data.get("options", {})), float(data.get("requested_at", 0)))
    except (OSError, ValueError, KeyError, TypeError):
        return Wanted()


def read_state(run_dir: Path) -> dict:
    """The supervisor's last written state: {"pid", "updated_at", "services": {name: ServiceState fields}}."""
    try:
        data = json.loads((run_dir / STATE_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def supervisor_alive(run_dir: Path, record: ProcessRecord | None) -> bool:
    """True when the supervisor of `record` writes its state (a heartbeat younger than HEARTBEAT_STALE_S)."""
    state = read_state(run_dir)
    fresh = time.time() - float(state.get("updated_at", 0)) < HEARTBEAT_STALE_S
    return record is not None and state.get("pid") == record.pid and fresh


def describe_exit(status: int | None, uptime_s: float | None) -> str:
    if status is None:
        what = "exited (status unknown: not started by this supervisor)"
    elif status < 0:
        try:
            what = f"killed by {signal.Signals(-status).name}"
        except ValueError:
            what = f"killed by signal {-status}"
    else:
        what = f"exited with status {status}"
    return what if uptime_s is None else f"{what} after {uptime_s:.0f} s"


# the supervisor ------------------------------------------------------------------------------------------------
class Supervisor:
    """Keeps the wanted services running. `services(options)` builds their definitions (commands may change
    between restarts, e.g. the simulator's gap to backfill)."""

    def __init__(
        self,
        run_dir: Path,
        services: Callable[[dict], dict[str, ManagedService]],
        policy: RestartPolicy = RestartPolicy(),
        clock: Callable[[], float] = time.time,
    ):
        self.run_dir = run_dir
        self.services = services
        self.policy = policy
        self.clock = clock
        self.states: dict[str, ServiceState] = {}
        self.children: dict[str, subprocess.Popen] = {}
        self.records: dict[str, ProcessRecord] = {}

    def tick(self) -> None:
        """One round: notice exits, start what is due, write the state."""
        wanted = read_wanted(self.run_dir)
        definitions = self.services(wanted.options) if wanted.services else {}
        for name in wanted.services:
            service = definitions.get(name)
            if service is None:
                log.error("no service named %r to supervise", name)
                continue
            self._tend(name, service, wanted.requested_at)
        self.write_state()

    def _tend(self, name: str, service: ManagedService, requested_at: float) -> None:
        state = self.states.setdefault(name, ServiceState())
        if state.state == FAILED and state.failed_at is not None and requested_at > state.failed_at:
            log.info("%s: asked for again after it failed; trying again", name)
            state = self.states[name] = ServiceState()
        if state.state == FAILED:
            return
        if state.state == RUNNING:
            exited, status = self._exited(name, service)
            if not exited:
                return
            self._on_exit(name, service, state, status)
        if state.state != FAILED and self.clock() >= state.next_start_at:
            self._launch(name, service, state)

    def _exited(self, name: str, service: ManagedService) -> tuple[bool, int | None]:
        child = self.children.get(name)
        if child is not None:
            status = child.poll()
            return status is not None, status
        record = self.records.get(name)
        return (record is None or not record.alive()), None

    def _on_exit(
        self, name: str, service: ManagedService, state: ServiceState, status: int | None, what: str | None = None
    ) -> None:
        now = self.clock()
        self.children.pop(name, None)
        self.records.pop(name, None)
        service.record_file.unlink(missing_ok=True)
        uptime = None if state.started_at is None else now - state.started_at
        state.last_exit = what or describe_exit(status, uptime)
        state.last_exit_status = status
        state.last_exit_at = now
        state.pid = None
        state.recent_restarts = [t for t in state.recent_restarts if now - t <= self.policy.window_s]
        if len(state.recent_restarts) >= self.policy.max_restarts:
            state.state, state.failed_at = FAILED, now
            self._note(
                service,
                f"{name} {state.last_exit}; {len(state.recent_restarts)} restarts in the last "
                f"{self.policy.window_s:.0f} s: marked failed, not restarted (see {service.log_file})",
                logging.ERROR,
            )
            return
        delay = self.policy.delay(len(state.recent_restarts))
        state.state, state.next_start_at = BACKOFF, now + delay
        self._note(service, f"{name} {state.last_exit}; restarting in {delay:.1f} s", logging.WARNING)

    def _launch(self, name: str, service: ManagedService, state: ServiceState) -> None:
        restart = state.last_exit_at is not None
        try:
            record, child = service.spawn()
        except PowercastError as exc:
            # a start that cannot happen (e.g. a port taken) counts as a crash: backoff, then failed
            state.started_at = None
            self._on_exit(name, service, state, None, what=f"did not start ({exc})")
            return
        now = self.clock()
        if restart:
            state.recent_restarts.append(now)
            state.restarts += 1
        state.state, state.pid, state.started_at = RUNNING, record.pid, now
        self.records[name] = record
        if child is not None:
            self.children[name] = child
            if restart:
                self._note(service, f"{name} restarted (restart {state.restarts}, pid {record.pid})", logging.INFO)
        else:
            state.started_at = record.started_at
            log.info("%s already runs (pid %d): supervising it", name, record.pid)

    def _note(self, service: ManagedService, message: str, level: int) -> None:
        log.log(level, message)
        try:
            with open(service.log_file, "a") as out:
                out.write(f"--- powercast supervisor {time.strftime('%Y-%m-%d %H:%M:%S')}: {message}\n")
        except OSError:
            pass

    def write_state(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        data = {
            "pid": os.getpid(),
            "updated_at": time.time(),
            "policy": asdict(self.policy),
            "services": {name: asdict(state) for name, state in self.states.items()},
        }
        write_json_atomically(self.run_dir / STATE_FILE, data)

    def run(self, stop: threading.Event, interval_s: float = 1.0) -> None:
        """Tick until `stop` is set; the services keep running after the supervisor stops (`down` stops them)."""
        while not stop.is_set():
            try:
                self.tick()
            except Exception:  # one bad round (a full disk, a broken definition) must not end supervision
                log.exception("supervision round failed")
            stop.wait(interval_s)
        for child in self.children.values():
            child.poll()  # reap what already exited; the rest is adopted by init
