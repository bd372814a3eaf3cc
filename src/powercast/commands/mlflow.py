"""`powercast mlflow start|stop|status`."""

from __future__ import annotations

import typer

from powercast.commands._context import settings
from powercast.commands._group import group

app = group("Run the local MLflow tracking server (backend store in PostgreSQL).", no_args_is_help=True)


@app.command()
def start(ctx: typer.Context) -> None:
    """Start the MLflow tracking server on loopback and wait until it answers /health."""
    from powercast.stack.mlflow import MlflowServer

    uri = MlflowServer(settings(ctx)).start()
    typer.echo(f"mlflow running at {uri}")


@app.command()
def stop(ctx: typer.Context) -> None:
    """Stop the local MLflow server and its workers."""
    from powercast.stack.mlflow import MlflowServer

    stopped = MlflowServer(settings(ctx)).stop()
    typer.echo("mlflow stopped" if stopped else "mlflow was not running")


@app.command()
def status(ctx: typer.Context) -> None:
    """Print the tracking URI and whether it answers; exit 1 when it does not."""
    from powercast.registry import server_answers

    uri = settings(ctx).tracking_uri
    if server_answers(uri):
        typer.echo(f"mlflow running at {uri}")
        return
    typer.echo(f"mlflow not running (expected at {uri})")
    raise typer.Exit(1)
