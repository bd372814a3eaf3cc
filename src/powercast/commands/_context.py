"""The settings, read from the environment once, when a command first needs them (so `--help` reads none)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from powercast.config import Settings


def settings(ctx: typer.Context) -> Settings:
    root = ctx.find_root()
    if root.obj is None:
        from powercast.config import load_settings

        root.obj = load_settings()
    return root.obj
