"""Whether a process runs: shared by the runtime (pid files) and the simulator's control file."""

from __future__ import annotations

import os


def pid_alive(pid: int) -> bool:
    """True while `pid` names a running process (a zombie counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child counts as gone
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True
