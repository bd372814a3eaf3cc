"""Access to the settings built once by the root command."""

from __future__ import annotations

import typer

from powercast.config import Settings


def settings(ctx: typer.Context) -> Settings:
    root = ctx.find_root()
    if root.obj is None:
        root.obj = Settings()
    return root.obj
