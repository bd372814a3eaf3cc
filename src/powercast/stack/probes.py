"""Health probes: quick checks that a service answers (each gives up within a couple of seconds)."""

from __future__ import annotations

import urllib.error
import urllib.request


def http_ok(url: str, timeout: float = 2.0) -> bool:
    if not url.startswith(("http://", "https://")):
        return False
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - scheme checked above
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False
