"""The whole local system, in start order: what `powercast up` brings up, `powercast down` stops and
`powercast status` reports.

Infrastructure (PostgreSQL, Kafka, MLflow) comes first; then the supervisor, which starts the always-on services
as `up` asks for them: the ingestor; the simulator, which backfills history up to now and continues live without a
gap; after the feature job, training with registration and promotion, the forecasting service that serves the
champion, and the control center. Airflow comes last.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from powercast.config import Settings
from powercast.db.connection import connect
from powercast.errors import PowercastError
from powercast.simulator.control import ControlDir
from powercast.stack import process, supervision
from powercast.stack.airflow import Airflow
from powercast.stack.kafka import KafkaBroker
from powercast.stack.managed import ManagedService, Port, log_dir, run_dir
from powercast.stack.mlflow import MlflowServer
from powercast.stack.probes import http_ok

# Stop order is the reverse: the simulator stops before the ingestor, so the ingestor drains what was sent.
SUPERVISED = ("ingest", "simulate", "serve", "dash")
LOCAL = "127.0.0.1"


@dataclass(frozen=True)
class UpOptions:
    machines: int = 10
    history_days: float = 14.0
    models: str = "xgb"
    windows: int = 2
    seed: int = 42

    @classmethod
    def from_dict(cls, data: dict) -> UpOptions:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def latest_reading(url: str) -> datetime | None:
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT max(ts) FROM readings")
            return cur.fetchone()[0]
    finally:
        conn.close()


def backfill_days(last: datetime | None, options: UpOptions, now: datetime) -> float:
    """Days of history the simulator must publish so that readings reach `now` without a gap."""
    if last is None:
        return options.history_days
    return max(0.0, min(options.history_days, (now - last).total_seconds() / 86400))


def settings_env(settings: Settings) -> dict[str, str]:
    """The settings as environment variables, so child processes see exactly what the parent saw."""
    env = {}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        key = {"database_url": "DATABASE_URL", "mlflow_tracking_uri": "MLFLOW_TRACKING_URI"}.get(
            name, f"POWERCAST_{name.upper()}"
        )
        env[key] = str(value)
    return env


def _powercast(
    settings: Settings,
    name: str,
    args: Callable[[], list[str]],
    health: Callable[[], bool],
    url: str,
    **kwargs,
) -> ManagedService:
    """A `python -m powercast ...` service with the parent's settings in its environment."""
    return ManagedService(
        name=name,
        command=lambda: [sys.executable, "-m", "powercast", *args()],
        run_dir=run_dir(settings),
        log_file=log_dir(settings) / f"{name}.log",
        url=url,
        health=health,
        environment=lambda: settings_env(settings),
        **kwargs,
    )


def supervised_services(settings: Settings, options: UpOptions) -> dict[str, ManagedService]:
    """The always-on services, by name."""
    s = settings
    metrics = f"http://{LOCAL}:{s.ingest_metrics_port}/metrics"
    api = f"http://{LOCAL}:{s.serving_port}"
    dash = f"http://{LOCAL}:{s.dash_port}"
    simulator = ControlDir(s.resolved_data_dir / "simulator")

    def simulate_args() -> list[str]:
        # computed at each start: a restart backfills only what the ingestor has not yet written
        days = backfill_days(latest_reading(s.app_database_url), options, datetime.now(UTC))
        return [
            "simulate",
            *("--machines", str(options.machines), "--seed", str(options.seed)),
            *("--backfill-days", f"{days:.6f}", "--producer", "confluent"),
        ]

    services = [
        _powercast(
            s,
            "ingest",
            lambda: ["ingest"],
            lambda: http_ok(metrics),
            metrics,
            ports=(Port(LOCAL, s.ingest_metrics_port, "POWERCAST_INGEST_METRICS_PORT"),),
            stop_timeout=60.0,  # the ingestor drains and commits its batch on SIGTERM
        ),
        _powercast(
            s, "simulate", simulate_args, lambda: simulator.running() is not None, f"{options.machines} machines"
        ),
        _powercast(
            s,
            "serve",
            lambda: ["serve"],
            lambda: http_ok(f"{api}/health"),  # 503 until a champion is loaded
            f"{api}/docs",
            ready=lambda: http_ok(f"{api}/openapi.json"),  # it answers; it serves once a champion exists
            ports=(Port(LOCAL, s.serving_port, "POWERCAST_SERVING_PORT"),),
            start_timeout=180.0,
        ),
        _powercast(
            s,
            "dash",
            lambda: ["dash"],
            lambda: http_ok(dash + "/"),
            dash,
            ports=(Port(LOCAL, s.dash_port, "POWERCAST_DASH_PORT"),),
            start_timeout=120.0,
        ),
    ]
    return {service.name: service for service in services}


def supervisor_service(settings: Settings) -> ManagedService:
    runs = run_dir(settings)
    service = _powercast(
        settings,
        "supervisor",
        lambda: ["supervise"],
        lambda: supervision.supervisor_alive(runs, service.running()),  # `service` is bound by then
        str(runs / supervision.STATE_FILE),
        stop_timeout=15.0,
    )
    return service


def infrastructure(settings: Settings) -> list[ManagedService]:
    """Kafka, MLflow and Airflow, in start order (PostgreSQL is pg_ctl's: `powercast.stack.postgres`)."""
    return [KafkaBroker(settings).service(), MlflowServer(settings).service(), Airflow(settings).service()]


def all_services(settings: Settings, options: UpOptions | None = None) -> list[ManagedService]:
    """Every managed service in start order: infrastructure, the supervisor, the always-on services."""
    options = options or UpOptions.from_dict(supervision.read_wanted(run_dir(settings)).options)
    kafka, mlflow, airflow = infrastructure(settings)
    return [kafka, mlflow, airflow, supervisor_service(settings), *supervised_services(settings, options).values()]


def start_supervised(settings: Settings, service: ManagedService, options: UpOptions) -> None:
    """Have the supervisor start `service` (unless it runs) and wait until it is ready."""
    runs = run_dir(settings)
    supervisor = supervisor_service(settings)
    requested_at = supervision.want(runs, [service.name], asdict(options))
    try:
        process.wait_until(
            service.ready or service.health,
            timeout=service.start_timeout,
            what=service.name,
            alive=lambda: not supervision.failed_since(runs, service.name, requested_at) and supervisor.healthy(),
            log_file=service.log_file,
        )
    except PowercastError as exc:
        if not supervisor.healthy():
            raise PowercastError(
                f"the supervisor stopped while {service.name} started", f"see {supervisor.log_file}"
            ) from exc
        raise


def stop_all(settings: Settings) -> list[str]:
    """Stop the supervisor first (so nothing restarts), then the services in reverse start order; the names of
    those that ran."""
    stopped = []
    services = all_services(settings)
    supervisor = next(s for s in services if s.name == "supervisor")
    if supervisor.stop():
        stopped.append(supervisor.name)
    supervision.clear_wanted(run_dir(settings))
    for service in reversed(services):
        if service.name != "supervisor" and service.stop():
            stopped.append(service.name)
    return stopped


def wait_for_history(url: str, start: datetime, *, timeout: float) -> None:
    """Wait until readings reach the present, with a progress bar over the backfilled span."""
    from tqdm import tqdm

    target = datetime.now(UTC) - timedelta(seconds=60)
    span = max(1.0, (target - start).total_seconds())
    deadline = time.monotonic() + timeout
    with tqdm(total=100, desc="history", unit="%", bar_format="{l_bar}{bar}| {elapsed}") as bar:
        while time.monotonic() < deadline:
            last = latest_reading(url)
            done = 0.0 if last is None else min(100.0, 100 * (last - start).total_seconds() / span)
            bar.update(max(0.0, done - bar.n))
            if last is not None and last >= target:
                return
            time.sleep(2)
    raise PowercastError(
        "history did not reach the present in time", "see .data/logs/simulate.log and .data/logs/ingest.log"
    )
