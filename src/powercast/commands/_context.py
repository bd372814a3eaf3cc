"""Access to the settings built once by the root command."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from powercast.config import Settings


def settings(ctx: typer.Context) -> Settings:
    root = ctx.find_root()
    if root.obj is None:
        from powercast.config import Settings

        root.obj = Settings()
    return root.obj
