"""`powercast db start|stop|status|migrate`."""

from __future__ import annotations

from pathlib import Path

import typer

from powercast.commands._context import settings
from powercast.commands._group import group
from powercast.errors import PowercastError

app = group("Run the embedded PostgreSQL server and manage the schema.", no_args_is_help=True)


@app.command()
def start(ctx: typer.Context) -> None:
    """Start the embedded PostgreSQL (or check DATABASE_URL when it is set) and print the database URL."""
    from powercast.db.connection import redact
    from powercast.stack.postgres import EmbeddedPostgres

    url = EmbeddedPostgres(settings(ctx)).start()
    typer.echo(f"postgres running at {redact(url)}")


@app.command()
def stop(ctx: typer.Context) -> None:
    """Stop the embedded PostgreSQL. Does nothing when DATABASE_URL points elsewhere."""
    from powercast.stack.postgres import EmbeddedPostgres

    stopped = EmbeddedPostgres(settings(ctx)).stop()
    typer.echo("postgres stopped" if stopped else "postgres was not running (or is external)")


@app.command()
def status(ctx: typer.Context) -> None:
    """Print the database URL and whether it answers; exit 1 when it does not."""
    from powercast.db.connection import redact
    from powercast.stack.postgres import check_reachable

    url = settings(ctx).app_database_url
    try:
        check_reachable(url)
    except PowercastError:
        typer.echo(f"postgres not reachable at {redact(url)}")
        raise typer.Exit(1) from None
    typer.echo(f"postgres running at {redact(url)}")


@app.command()
def migrate(
    ctx: typer.Context,
    sql_dir: Path = typer.Option(None, "--sql-dir", envvar="POWERCAST_SQL_DIR", help="Folder of numbered .sql files."),
) -> None:
    """Apply pending schema migrations in order (safe to re-run)."""
    from powercast.db.migrate import migrate as apply_migrations

    applied = apply_migrations(settings(ctx).app_database_url, sql_dir)
    if applied:
        for m in applied:
            typer.echo(f"applied {m.path.name}")
    else:
        typer.echo("schema up to date")
