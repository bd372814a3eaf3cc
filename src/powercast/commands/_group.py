"""Typer apps of powercast: plain help, so `--help` answers without importing Rich's help renderer."""

from __future__ import annotations

import typer


def group(help: str, **options) -> typer.Typer:
    """A Typer app whose help is Click's plain text (Rich's renderer and Markdown parser cost more than the
    rest of the CLI's imports together)."""
    return typer.Typer(help=help, rich_markup_mode=None, **options)
