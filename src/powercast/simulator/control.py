"""Talking to a running simulator through its control directory, `<data dir>/simulator/`.

- `simulator.json`: written by a live simulator while it runs (pid, interval, machine ids), removed on exit.
- `inject/*.json`: one file per injection request. `powercast inject` writes it atomically (temporary name,
  then rename); the simulator picks up every file at its next tick, applies it from that tick on and deletes
  it. A file it cannot read is renamed `*.rejected` and logged, never retried.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from powercast.errors import PowercastError
from powercast.pids import pid_alive
from powercast.simulator.kinds import KINDS
from powercast.stream.events import SENSORS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InjectionRequest:
    """An anomaly to start now on one machine of a running simulator."""

    machine_id: str
    kind: str
    minutes: float
    magnitude: float | None = None
    sensor: str | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise PowercastError(f"unknown anomaly kind {self.kind!r}", f"use one of {', '.join(KINDS)}")
        if not self.minutes > 0:
            raise PowercastError(f"--minutes must be positive, got {self.minutes}", "e.g. --minutes 10")
        if self.sensor is not None and self.sensor not in SENSORS:
            raise PowercastError(f"unknown sensor {self.sensor!r}", f"use one of {', '.join(SENSORS)}")


class ControlDir:
    """The files a live simulator and `powercast inject` share."""

    def __init__(self, root: Path):
        self.root = root
        self.inbox = root / "inject"
        self.heartbeat = root / "simulator.json"

    # the running simulator's side -------------------------------------------------------------------------
    def announce(self, machine_ids: list[str], interval_s: int) -> None:
        """Record that this process runs a live simulator for these machines."""
        self.inbox.mkdir(parents=True, exist_ok=True)
        _write_atomically(self.heartbeat, {"pid": os.getpid(), "interval_s": interval_s, "machines": machine_ids})

    def retire(self) -> None:
        if self.running() and self.running()["pid"] == os.getpid():
            self.heartbeat.unlink(missing_ok=True)

    def take_requests(self) -> list[InjectionRequest]:
        """Every pending request, oldest first; each file is consumed once."""
        if not self.inbox.is_dir():
            return []
        requests = []
        for path in sorted(self.inbox.glob("*.json")):
            try:
                requests.append(InjectionRequest(**json.loads(path.read_text())))
                path.unlink()
            except (ValueError, TypeError, PowercastError) as exc:
                log.warning("ignoring injection request %s: %s", path.name, exc)
                path.rename(path.with_suffix(".rejected"))
        return requests

    # the requester's side ---------------------------------------------------------------------------------
    def running(self) -> dict | None:
        """The running simulator's heartbeat, or None when none runs."""
        try:
            info = json.loads(self.heartbeat.read_text())
        except (OSError, ValueError):
            return None
        return info if isinstance(info, dict) and pid_alive(int(info.get("pid", 0))) else None

    def request(self, req: InjectionRequest) -> Path:
        """Queue a request for the running simulator; refuses when none runs or the machine is not in its fleet."""
        info = self.running()
        if info is None:
            raise PowercastError(
                f"no simulator is running on {self.root}",
                "start one with `powercast simulate` (same POWERCAST_DATA_DIR)",
            )
        if req.machine_id not in info["machines"]:
            shown = ", ".join(info["machines"][:3]) + (", ..." if len(info["machines"]) > 3 else "")
            raise PowercastError(
                f"machine {req.machine_id!r} is not in the running fleet ({shown})", "pick one of its machine ids"
            )
        self.inbox.mkdir(parents=True, exist_ok=True)
        path = self.inbox / f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.json"
        _write_atomically(path, asdict(req))
        return path


def _write_atomically(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)
