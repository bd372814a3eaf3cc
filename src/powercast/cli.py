"""The `powercast` command: one subcommand per job."""

from __future__ import annotations

import logging
import sys

import typer

from powercast import __version__
from powercast.commands import (
    airflow,
    alerts,
    backtest,
    dash,
    db,
    features,
    ingest,
    kafka,
    mlflow,
    promotion,
    serve,
    simulate,
    stack,
    train,
    users,
)
from powercast.commands._group import group
from powercast.errors import PowercastError, SettingsError

app = group(
    "powercast: watch industrial machines and forecast their power 15 minutes ahead.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(kafka.app, name="kafka")
app.add_typer(db.app, name="db")
# The local runtime
app.command("up")(stack.up)
app.command("down")(stack.down)
app.command("status")(stack.status)
app.command("supervise")(stack.supervise)
# Data: simulator and ingestion
app.command("simulate")(simulate.simulate)
app.command("backfill")(simulate.backfill)
app.command("inject")(simulate.inject)
app.command("ingest")(ingest.ingest)
# Features and models
app.command("features")(features.features)
app.command("train")(train.train)
app.command("backtest")(backtest.backtest)
# MLOps: tracking server, champion/challenger promotion, forecasting service
app.add_typer(mlflow.app, name="mlflow")
app.add_typer(airflow.app, name="airflow")
app.command("promote")(promotion.promote)
app.command("rollback")(promotion.rollback)
app.command("promotions")(promotion.history)
app.command("serve")(serve.serve)
app.command("score")(serve.score)
# The control center and its users
app.command("dash")(dash.dash)
app.add_typer(users.app, name="users")

app.add_typer(alerts.app, name="alerts")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"powercast {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug detail."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def main() -> None:
    try:
        app()
    except SettingsError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except PowercastError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
