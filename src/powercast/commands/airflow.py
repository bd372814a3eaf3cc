"""`powercast airflow start|stop|status`."""

from __future__ import annotations

import typer

from powercast.commands._context import settings
from powercast.commands._group import group

app = group("Run the local Apache Airflow (LocalExecutor, metadata in PostgreSQL).", no_args_is_help=True)


@app.command()
def start(ctx: typer.Context) -> None:
    """Start Airflow on loopback with the DAGs of dags/ and wait until its API answers."""
    from powercast.stack.airflow import ADMIN, Airflow

    airflow = Airflow(settings(ctx))
    url = airflow.start()
    typer.echo(f"airflow running at {url} (login {ADMIN} / {airflow.admin_password()})")


@app.command()
def stop(ctx: typer.Context) -> None:
    """Stop Airflow and every process it started."""
    from powercast.stack.airflow import Airflow

    stopped = Airflow(settings(ctx)).stop()
    typer.echo("airflow stopped" if stopped else "airflow was not running")


@app.command()
def status(ctx: typer.Context) -> None:
    """Print the UI's URL, the admin login and whether the API answers; exit 1 when it does not."""
    from powercast.stack.airflow import ADMIN, Airflow

    airflow = Airflow(settings(ctx))
    if airflow.answers():
        typer.echo(f"airflow running at {airflow.url} (login {ADMIN} / {airflow.admin_password()})")
        return
    typer.echo(f"airflow not running (expected at {airflow.url})")
    raise typer.Exit(1)
