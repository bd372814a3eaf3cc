"""Health check of the compose services built from the powercast image (the slim image has no curl):
`python healthcheck.py URL [--any-status]` exits 0 when URL answers 2xx (with --any-status: any HTTP answer,
for a service that is up but reports 503 until a model is registered), 1 otherwise."""

from __future__ import annotations

import sys
import urllib.error
import urllib.request


def answers(url: str, *, any_status: bool = False, timeout: float = 3.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:  # noqa: S310 - a fixed http URL from compose
            return 200 <= reply.status < 300
    except urllib.error.HTTPError:
        return any_status
    except (OSError, ValueError):
        return False


def main(argv: list[str]) -> int:
    urls = [a for a in argv if not a.startswith("--")]
    if len(urls) != 1:
        print("usage: healthcheck.py URL [--any-status]", file=sys.stderr)
        return 2
    return 0 if answers(urls[0], any_status="--any-status" in argv) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
