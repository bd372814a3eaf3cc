"""`powercast up|down|status`: the whole local system."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import typer

from powercast.commands._context import settings
from powercast.errors import PowercastError

if TYPE_CHECKING:
    from powercast.stack.system import UpOptions


def up(
    ctx: typer.Context,
    machines: int = typer.Option(10, "--machines", "-n", min=1, help="Fleet size of the simulator."),
    history_days: float = typer.Option(
        14.0, "--history-days", min=0.0, help="Days of history to backfill on a fresh database."
    ),
    models: str = typer.Option("xgb", help="Models to train and compare (e.g. xgb,lstm)."),
    windows: int = typer.Option(2, min=1, help="Cross-validation windows of the first training."),
    infra_only: bool = typer.Option(
        False, "--infra-only", help="Start PostgreSQL, Kafka and MLflow only (no services, no training)."
    ),
) -> None:
    """Bring the whole system up: infrastructure, ingestor, simulator with history, features, a trained and
    promoted model, and the forecasting service. Prints where each part answers. Safe to run again."""
    from powercast.db.migrate import migrate
    from powercast.stack.airflow import Airflow
    from powercast.stack.kafka import KafkaBroker
    from powercast.stack.mlflow import MlflowServer
    from powercast.stack.postgres import EmbeddedPostgres
    from powercast.stack.system import UpOptions
    from powercast.stream.topics import ensure_topics

    s = settings(ctx)
    options = UpOptions(machines=machines, history_days=history_days, models=models, windows=windows)
    url = EmbeddedPostgres(s).start()
    for m in migrate(url):
        typer.echo(f"applied migration {m.path.name}")
    bootstrap = KafkaBroker(s).start() if s.embedded_kafka else s.bootstrap_servers
    ensure_topics(bootstrap)
    tracking = MlflowServer(s).start() if s.mlflow_tracking_uri is None else s.tracking_uri
    if not infra_only:
        _start_pipeline(s, options, url)
        typer.echo("starting Airflow (the first start migrates its database: about a minute)")
        Airflow(s).start()
    _print_urls(s, url, bootstrap, tracking, infra_only)


def _start_pipeline(s, options: UpOptions, url: str) -> None:
    from powercast.stack.services import Supervisor
    from powercast.stack.system import backfill_days, latest_reading, service_definitions, wait_for_history

    supervisor = Supervisor(s)
    now = datetime.now(UTC)
    days = backfill_days(latest_reading(url), options, now)
    definitions = service_definitions(s, options, days)
    supervisor.start(definitions["ingest"])
    fresh = supervisor.pid("simulate") is None
    supervisor.start(definitions["simulate"])
    if fresh and days > 0:
        typer.echo(f"backfilling {days:.2f} days of history for {options.machines} machines")
        wait_for_history(url, now - timedelta(days=days), timeout=3600)
    _first_models(s, options)
    supervisor.start(definitions["serve"], timeout=180)
    supervisor.start(definitions["dash"], timeout=120)


def _first_models(s, options: UpOptions) -> None:
    """Features, training with registration and promotion: the job functions the DAGs run."""
    from powercast.jobs.features import snapshot_features
    from powercast.jobs.promotion import promote_challenger
    from powercast.jobs.training import train_and_register

    snap = snapshot_features(s)
    typer.echo(f"features: snapshot {snap.snapshot_id}, {snap.row_count} row(s) written")
    run = train_and_register(
        s,
        models=options.models.split(","),
        windows=options.windows,
        register=True,
        triggered_by="powercast up",
        progress=True,
    )
    ratio = run.metrics[run.best]["ratio_to_persistence"]
    trained = ", ".join(m for m in run.metrics if m != "persistence")
    typer.echo(
        f"trained {trained}: best {run.best} (MAE {ratio:.3f} x persistence), "
        f"MLflow run {run.run_id}, registered as version {run.model_version} (challenger)"
    )
    decision = promote_challenger(s, triggered_by="powercast up").record
    typer.echo(f"promotion: {decision.outcome}: {decision.reason}")


def _print_urls(s, url: str, bootstrap: str, tracking: str, infra_only: bool) -> None:
    from powercast.db.connection import redact
    from powercast.stack.airflow import ADMIN, Airflow

    typer.echo("")
    typer.echo(f"postgres     {redact(url)}")
    typer.echo(f"kafka        {bootstrap}")
    typer.echo(f"mlflow       {tracking}")
    if not infra_only:
        airflow = Airflow(s)
        typer.echo(f"airflow      {airflow.url}  (login {ADMIN} / {airflow.admin_password()})")
        typer.echo(f"dash         http://127.0.0.1:{s.dash_port}  (add a login: powercast users add NAME --role admin)")
        typer.echo(f"forecasts    http://127.0.0.1:{s.serving_port}/docs")
        typer.echo(f"ingest       http://127.0.0.1:{s.ingest_metrics_port}/metrics")
        typer.echo(f"logs         {s.resolved_data_dir / 'logs'}")


def down(ctx: typer.Context) -> None:
    """Stop everything `powercast up` started (data stays in the data directory)."""
    from powercast.stack.airflow import Airflow
    from powercast.stack.kafka import KafkaBroker
    from powercast.stack.mlflow import MlflowServer
    from powercast.stack.postgres import EmbeddedPostgres
    from powercast.stack.services import SERVICES_STOP_TIMEOUT, Supervisor

    s = settings(ctx)
    supervisor = Supervisor(s)
    for name in ("dash", "serve", "simulate", "ingest"):
        if supervisor.stop(name, timeout=SERVICES_STOP_TIMEOUT):
            typer.echo(f"{name} stopped")
    if Airflow(s).stop():
        typer.echo("airflow stopped")
    if s.mlflow_tracking_uri is None and MlflowServer(s).stop():
        typer.echo("mlflow stopped")
    if s.embedded_kafka:
        typer.echo("kafka stopped" if KafkaBroker(s).stop() else "kafka was not running")
    typer.echo("postgres stopped" if EmbeddedPostgres(s).stop() else "postgres was not running (or is external)")


def status(ctx: typer.Context) -> None:
    """Tell which parts of the system run; exit 1 when a part of the infrastructure is down."""
    from powercast.db.connection import redact
    from powercast.registry import server_answers
    from powercast.stack.airflow import ADMIN, Airflow
    from powercast.stack.kafka import broker_answers
    from powercast.stack.postgres import check_reachable
    from powercast.stack.services import Supervisor
    from powercast.stack.system import SERVICES

    s = settings(ctx)
    healthy = True

    def line(name: str, up_: bool, where: str) -> None:
        typer.echo(f"{name:<12} {'up  ' if up_ else 'down'}  {where}")

    try:
        check_reachable(s.app_database_url)
        line("postgres", True, redact(s.app_database_url))
    except PowercastError:
        healthy = False
        line("postgres", False, redact(s.app_database_url))
    kafka_up = broker_answers(s.bootstrap_servers)
    mlflow_up = server_answers(s.tracking_uri)
    healthy &= kafka_up and mlflow_up
    line("kafka", kafka_up, s.bootstrap_servers)
    line("mlflow", mlflow_up, s.tracking_uri)
    airflow = Airflow(s)
    line("airflow", airflow.answers(), f"{airflow.url} (login {ADMIN} / {airflow.admin_password()})")
    supervisor = Supervisor(s)
    for name in SERVICES:
        pid = supervisor.pid(name)
        line(name, pid is not None, f"pid {pid}" if pid else str(supervisor.log_file(name)))
    if not healthy:
        raise typer.Exit(1)
