"""Free-space checks made before a download starts, so a full disk stops it with a clear error, not halfway."""

from __future__ import annotations

import shutil
from pathlib import Path

from powercast.errors import PowercastError

GIB = 2**30


def free_bytes(path: Path) -> int:
    """Free bytes on the filesystem that holds `path` (or would hold it: its nearest existing parent)."""
    path = path.expanduser().absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).free


def require_free_space(path: Path, need_bytes: int, what: str) -> None:
    """A PowercastError naming the place and both sizes when `path`'s filesystem has under `need_bytes` free."""
    free = free_bytes(path)
    if free < need_bytes:
        raise PowercastError(
            f"{what} needs about {need_bytes / GIB:.1f} GiB free under {path}, and only {free / GIB:.1f} GiB is",
            "free some space there, or point POWERCAST_DATA_DIR / POWERCAST_CACHE_DIR at a larger disk",
        )
