"""Process plumbing for the local runtime: port checks, detached starts, process-group stops, waits, log tails."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from powercast.errors import PowercastError
from powercast.pids import pid_alive


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def require_free_port(host: str, port: int, setting: str) -> None:
    if port_in_use(host, port):
        raise PowercastError(
            f"port {host}:{port} is already in use",
            f"stop whatever listens there or set {setting} to a free port",
        )


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def start_detached(
    cmd: list[str], *, log_file: Path, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.Popen:
    """Start `cmd` in a session of its own (so a stop reaches its children), logging to `log_file`."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        proc = subprocess.Popen(  # noqa: S603 - argv list without a shell; the runtime's own service commands
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
    return proc


def stop_group(pid: int, *, timeout: float = 30.0, sig: int = signal.SIGTERM) -> None:
    """Signal the process group led by `pid`, wait for it, then SIGKILL what is left."""
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _group_alive(pid):
            return
        _reap(pid)
        time.sleep(0.2)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    while _group_alive(pid):
        _reap(pid)
        time.sleep(0.1)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return any(pid_alive(int(p)) for p in _group_members(pgid))


def _group_members(pgid: int) -> list[str]:
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().split(")")[-1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            members.append(entry)
    return members


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def wait_until(
    check: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    alive: Callable[[], bool] | None = None,
    log_file: Path | None = None,
) -> None:
    """Poll `check` until it holds; fail with the log's tail if `alive` says the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if alive is not None and not alive():
            raise PowercastError(f"{what} exited during start-up", _log_hint(log_file))
        time.sleep(0.3)
    raise PowercastError(f"{what} did not become ready within {timeout:.0f} s", _log_hint(log_file))


def log_tail(log_file: Path | None, lines: int = 3) -> list[str]:
    """The last non-empty lines of `log_file` (none when it does not exist)."""
    if log_file is None or not log_file.exists():
        return []
    with open(log_file, "rb") as log:
        log.seek(max(0, log_file.stat().st_size - 64 * 1024))  # the tail of a long log, not all of it
        text = log.read().decode(errors="replace")
    return [line for line in text.splitlines() if line.strip()][-lines:]


def _log_hint(log_file: Path | None) -> str:
    tail = log_tail(log_file)
    if not tail:
        return "see its log"
    return f"see {log_file}; last lines: " + " | ".join(tail)
