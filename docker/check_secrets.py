"""The first step of the compose init job: refuse development secrets in production.

The secrets are the variables of docker/compose.env.example whose names end in _PASSWORD, _SECRET or _KEY; the
values written there are the development ones. With POWERCAST_DEPLOYMENT=production each secret must be set,
differ from its development value and be at least MIN_LENGTH characters long, or the job exits 2 naming the
variables (never their values) and nothing else of the system starts. POWERCAST_DB_PASSWORD goes into database
URLs, so it must be URL-safe in every deployment.

Usage: python check_secrets.py [EXAMPLE_FILE]   (default: compose.env.example next to this file)
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

SECRET_NAME = re.compile(r"^[A-Z][A-Z0-9_]*_(PASSWORD|SECRET|KEY)$")
URL_SAFE = re.compile(r"^[A-Za-z0-9._~-]+$")
URL_EMBEDDED = ("POWERCAST_DB_PASSWORD",)
MIN_LENGTH = 16
EXAMPLE = Path(__file__).with_name("compose.env.example")


def development_secrets(example: str) -> dict[str, str]:
    """The secret variables of an env file and the values written there (`NAME=value` lines)."""
    found = {}
    for line in example.splitlines():
        name, sep, value = line.strip().partition("=")
        if sep and SECRET_NAME.match(name):
            found[name] = value.strip().strip("'\"")
    return found


def is_fernet_key(value: str) -> bool:
    """Airflow's Fernet key: 32 bytes in URL-safe base64."""
    try:
        return len(base64.urlsafe_b64decode(value.encode("ascii"))) == 32
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return False


def problems(environ: Mapping[str, str], development: Mapping[str, str]) -> list[str]:
    """What is wrong with the secrets of `environ`: one line per variable, naming it, never its value."""
    found = []
    for name in URL_EMBEDDED:
        value = environ.get(name, "")
        if value and not URL_SAFE.match(value):
            found.append(f"{name} may hold only letters, digits and . _ ~ - (it is part of database URLs)")
    for name in (n for n in development if n.endswith("FERNET_KEY")):
        value = environ.get(name, "")
        if value and not is_fernet_key(value):
            found.append(f"{name} is not a Fernet key (32 bytes, URL-safe base64)")
    if environ.get("POWERCAST_DEPLOYMENT", "development") != "production":
        return found
    for name, dev_value in development.items():
        value = environ.get(name, "")
        if not value:
            found.append(f"{name} is not set")
        elif value == dev_value:
            found.append(f"{name} still has its development value from compose.env.example")
        elif len(value) < MIN_LENGTH:
            found.append(f"{name} is shorter than {MIN_LENGTH} characters")
    return found


def main(argv: list[str], environ: Mapping[str, str] = os.environ) -> int:
    example = Path(argv[0]) if argv else EXAMPLE
    development = development_secrets(example.read_text(encoding="utf-8"))
    found = problems(environ, development)
    for line in found:
        print(f"error: {line}", file=sys.stderr)
    if found:
        print("set them in .env (docker/README.md says how to make each), then start again", file=sys.stderr)
        return 2
    deployment = environ.get("POWERCAST_DEPLOYMENT", "development")
    print(f"secrets checked ({deployment}: {len(development)} secrets)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
