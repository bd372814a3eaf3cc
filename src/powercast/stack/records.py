"""Which process a service runs as: its pid *and* its start time, so a pid the kernel reused is never taken for it.

A record is a small JSON file `<data_dir>/run/<service>.json` written right after the start. A pid alone is not
an identity: after a crash or a reboot the same number may name an unrelated process, and signalling that
process would kill someone else's work. psutil's `create_time()` (from /proc/PID/stat's start time) tells the
two apart.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

# create_time() is computed from clock ticks since boot: equal for one process, with float rounding only
CREATE_TIME_TOLERANCE_S = 0.05


@dataclass(frozen=True)
class ProcessRecord:
    pid: int
    create_time: float  # psutil's create_time() of that pid when it was recorded
    started_at: float  # wall clock (time.time()) when the service was started

    @classmethod
    def of(cls, pid: int) -> ProcessRecord:
        """The record of the running process `pid` (raises psutil.NoSuchProcess when it has gone)."""
        return cls(pid=pid, create_time=psutil.Process(pid).create_time(), started_at=time.time())

    def alive(self) -> bool:
        """True while the recorded process runs: same pid, same start time, not a zombie."""
        try:
            proc = psutil.Process(self.pid)
            same = abs(proc.create_time() - self.create_time) <= CREATE_TIME_TOLERANCE_S
            return same and proc.status() != psutil.STATUS_ZOMBIE
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            return False
        except psutil.AccessDenied:  # another user's process with our pid: certainly not ours
            return False

    @property
    def uptime_s(self) -> float:
        return max(0.0, time.time() - self.started_at)


def write_record(path: Path, record: ProcessRecord) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomically(path, asdict(record))


def read_record(path: Path) -> ProcessRecord | None:
    """The record in `path` when its process still runs; a stale record (or a reused pid) is removed."""
    try:
        record = ProcessRecord(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None
    if record.alive():
        return record
    path.unlink(missing_ok=True)
    return None


def write_json_atomically(path: Path, data: object) -> None:
    """Readers see the old or the new content, never half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, path)
