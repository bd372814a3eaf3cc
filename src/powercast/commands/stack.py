"""`powercast up|down|status|supervise`: the whole local system."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from powercast.commands._context import settings

if TYPE_CHECKING:
    from pathlib import Path

    from powercast.config import Settings
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
    promoted model, the forecasting service, the control center and Airflow, kept running by a supervisor.
    Prints where each part answers. Safe to run again: it starts what is missing, backfills only the gap and
    trains only when no champion exists."""
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
    KafkaBroker(s).service().start()
    ensure_topics(s.bootstrap_servers, retention_ms=s.kafka_retention_ms)
    MlflowServer(s).service().start()
    if not infra_only:
        _start_pipeline(s, options, url)
        airflow = Airflow(s).service()
        if airflow.external is None and airflow.running() is None:
            typer.echo("starting Airflow (the first start migrates its database: about a minute)")
        airflow.start()
    _print_urls(s, url, infra_only)


def _start_pipeline(s: Settings, options: UpOptions, url: str) -> None:
    from datetime import UTC, datetime, timedelta

    from powercast.stack.system import (
        backfill_days,
        latest_reading,
        start_supervised,
        supervised_services,
        supervisor_service,
        wait_for_history,
    )

    supervisor_service(s).start()
    services = supervised_services(s, options)
    now = datetime.now(UTC)
    days = backfill_days(latest_reading(url), options, now)
    start_supervised(s, services["ingest"], options)
    fresh = services["simulate"].running() is None
    start_supervised(s, services["simulate"], options)
    if fresh and days > 0:
        typer.echo(f"backfilling {days:.2f} days of history for {options.machines} machines")
        wait_for_history(url, now - timedelta(days=days), timeout=3600)
    champion = _champion_version(s)
    if champion is None:
        _first_models(s, options)
    else:
        typer.echo(f"champion: version {champion} (no training; the Airflow DAGs retrain when it is due)")
    start_supervised(s, services["serve"], options)
    start_supervised(s, services["dash"], options)


def _champion_version(s: Settings) -> str | None:
    from powercast.names import CHAMPION_ALIAS
    from powercast.registry import connect, version_by_alias

    ref = version_by_alias(connect(s), CHAMPION_ALIAS)
    return ref.version if ref else None


def _first_models(s: Settings, options: UpOptions) -> None:
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
    if decision.new_champion_version is None:
        typer.echo(
            "the forecasting service has no model until a challenger beats persistence on the latest hours: "
            "train again once more readings arrived (`powercast train`, then `powercast promote`), or start a fresh "
            "database with more --history-days (few days may hold no hours like the latest ones, say a weekend's)"
        )


def _print_urls(s: Settings, url: str, infra_only: bool) -> None:
    from powercast.db.connection import redact
    from powercast.stack.airflow import ADMIN, Airflow

    typer.echo("")
    typer.echo(f"postgres     {redact(url)}")
    typer.echo(f"kafka        {s.bootstrap_servers}")
    typer.echo(f"mlflow       {s.tracking_uri}{_mlflow_login(s)}")
    if not infra_only:
        airflow = Airflow(s)
        typer.echo(f"airflow      {airflow.url}  (login {ADMIN} / {airflow.admin_password()})")
        typer.echo(f"dash         http://127.0.0.1:{s.dash_port}  (add a login: powercast users add NAME --role admin)")
        typer.echo(f"forecasts    http://127.0.0.1:{s.serving_port}/docs")
        typer.echo(f"metrics      http://127.0.0.1:{s.ingest_metrics_port}/metrics")
        typer.echo(f"logs         {s.resolved_data_dir / 'logs'}")
        typer.echo("status       powercast status")


def _mlflow_login(s: Settings) -> str:
    from powercast.credentials import load_mlflow_credentials

    login = load_mlflow_credentials(s.resolved_data_dir) if s.mlflow_auth and not s.mlflow_tracking_uri else None
    return f"  (login {login.username} / {login.password})" if login else ""


def down(
    ctx: typer.Context,
    purge: bool = typer.Option(
        False, "--purge", help="Also remove the data directory (databases, Kafka's log, models), after a prompt."
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask before --purge removes the data."),
) -> None:
    """Stop everything `powercast up` started, the supervisor first (data stays in the data directory unless
    --purge)."""
    from powercast.db.connection import redact
    from powercast.stack.postgres import EmbeddedPostgres
    from powercast.stack.system import stop_all

    s = settings(ctx)
    data = s.resolved_data_dir
    if purge and not yes:
        typer.confirm(f"remove {data} with its databases, Kafka's log and the models?", abort=True)
    for name in stop_all(s):
        typer.echo(f"{name} stopped")
    typer.echo("postgres stopped" if EmbeddedPostgres(s).stop() else "postgres was not running (or is external)")
    if purge:
        kept = _purge(data, s.resolved_cache_dir)
        typer.echo(f"removed {data}" + (f" (kept the download cache {kept})" if kept else ""))
        if not s.embedded_postgres:
            typer.echo(f"the external database {redact(s.app_database_url)} was left as it is")


def _purge(data: Path, cache: Path) -> Path | None:
    """Remove the data directory; the download cache stays when it lies directly in it (no new Kafka download)."""
    if not data.exists():
        return None
    keep = cache if cache.parent == data else None
    for entry in data.iterdir():
        if entry != keep:
            _remove(entry)
    if keep is None:
        data.rmdir()
    return keep


def _remove(path: Path) -> None:
    import shutil

    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def status(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object for scripts."),
) -> None:
    """Each part of the system: where it answers, whether its health probe passes, uptime, restarts; a failed
    service with the last lines of its log. Exit 1 when PostgreSQL, Kafka or MLflow does not answer or a service
    failed."""
    import json

    from powercast.stack.status import problems, system_report

    s = settings(ctx)
    reports = system_report(s)
    bad = problems(reports)
    if as_json:
        typer.echo(json.dumps({"ok": not bad, "services": [r.as_dict() for r in reports]}, indent=1))
    else:
        for r in reports:
            typer.echo(_status_line(r))
            for line in r.last_log_lines:
                typer.echo(f"{'':14}| {line}")
    if bad:
        raise typer.Exit(1)


def _status_line(r) -> str:
    health = "healthy" if r.healthy else "unhealthy"
    parts = [f"{r.name:<11}", f"{r.state:<8}", f"{health:<9}", r.url]
    if r.pid is not None:
        parts.append(f"pid {r.pid}, up {_duration(r.uptime_s)}")
    if r.restarts:
        parts.append(f"{r.restarts} restart(s)")
    if r.last_exit and r.state != "running":
        parts.append(f"last: {r.last_exit}")
    if r.state == "failed":
        parts.append(f"log {r.log_file}")
    return "  ".join(parts)


def _duration(seconds: float | None) -> str:
    seconds = int(seconds or 0)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


def supervise(
    ctx: typer.Context,
    base_delay: float = typer.Option(1.0, "--base-delay", min=0.0, help="Seconds before the first restart."),
    max_delay: float = typer.Option(30.0, "--max-delay", min=0.0, help="Longest wait between restarts."),
    max_restarts: int = typer.Option(5, "--max-restarts", min=0, help="Restarts within --window before 'failed'."),
    window: float = typer.Option(120.0, "--window", min=1.0, help="Seconds over which restarts are counted."),
) -> None:
    """Keep the always-on services (ingestor, simulator, forecasting service, control center) running: restart a
    crashed one with exponential backoff and mark one that keeps crashing as failed. `powercast up` starts it in
    the background; it runs until SIGTERM (`powercast down`), leaving the services to `down`."""
    import signal
    import threading
    from dataclasses import asdict

    from powercast.errors import PowercastError
    from powercast.stack import locks
    from powercast.stack.managed import run_dir
    from powercast.stack.supervision import RestartPolicy, Supervisor
    from powercast.stack.system import UpOptions, supervised_services

    s = settings(ctx)
    runs = run_dir(s)
    if locks.try_hold(runs / "supervise.lock") is None:  # held until this process exits
        raise PowercastError(f"a supervisor already runs for {s.resolved_data_dir}", "see `powercast status`")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    policy = RestartPolicy(base_delay, max_delay, max_restarts, window)
    typer.echo(f"supervising the services of {s.resolved_data_dir}: {asdict(policy)}")
    Supervisor(runs, lambda options: supervised_services(s, UpOptions.from_dict(options)), policy).run(stop)
    typer.echo("supervisor stopped")
