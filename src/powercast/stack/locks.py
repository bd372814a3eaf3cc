"""Exclusive locks on files in the data directory (fcntl.flock): two `powercast up`s, or `up` and the supervisor,
never start the same service twice. The kernel drops a lock when its holder dies, so a crash leaves none behind.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from powercast.errors import PowercastError


@contextmanager
def exclusive(path: Path, *, timeout: float, what: str) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if missing); wait up to `timeout` seconds for it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise PowercastError(
                        f"{what} is locked by another process ({path})",
                        "another `powercast up` or `down` is running: wait for it to finish",
                    ) from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def try_hold(path: Path) -> int | None:
    """Take an exclusive lock on `path` for the rest of this process's life; None when another process holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd
