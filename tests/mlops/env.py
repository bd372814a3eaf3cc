"""Environment hygiene for tests that talk to MLflow."""

from __future__ import annotations

import os
from contextlib import contextmanager


@contextmanager
def restored_env(name: str):
    """Restore environment variable `name` (or its absence) on exit."""
    original = os.environ.get(name)
    try:
        yield
    finally:
        if original is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = original
