"""`powercast simulate|backfill|inject`: the sensor simulator."""

from __future__ import annotations

import logging
import signal
import threading
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING

import typer

from powercast.commands._context import settings
from powercast.errors import PowercastError
from powercast.names import READINGS_TOPIC
from powercast.simulator.kinds import KINDS
from powercast.simulator.producer import PRODUCERS

if TYPE_CHECKING:
    from powercast.config import Settings
    from powercast.simulator.control import ControlDir
    from powercast.simulator.fleet import Machine
    from powercast.simulator.publish import PublishStats

MACHINES = typer.Option(10, "--machines", "-n", min=1, help="Fleet size (machines M-001..M-<n>).")
SEED = typer.Option(42, "--seed", help="Seed: the same seed gives the same fleet and the same readings.")
INTERVAL = typer.Option(10, "--interval", min=1, help="Seconds between two readings of a sensor (must divide a day).")
ANOMALY_RATE = typer.Option(0.2, "--anomaly-rate", min=0.0, help="Anomaly episodes per machine per day (0 = none).")
PRODUCER = typer.Option("kafka-python", "--producer", help=f"Kafka client: {' or '.join(PRODUCERS)}.")
REGISTER = typer.Option(
    True, "--register/--no-register", help="Upsert the fleet into the machines table when PostgreSQL answers."
)


def check_options(interval: int, producer: str) -> None:
    if 86_400 % interval:
        raise PowercastError(f"--interval {interval} does not divide a day", "use e.g. 1, 5, 10, 15, 30 or 60")
    if producer not in PRODUCERS:
        raise PowercastError(f"unknown --producer {producer!r}", f"use one of {', '.join(PRODUCERS)}")


def quiet_client_logs() -> None:
    """kafka-python logs every connection step at INFO; keep those for --verbose."""
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        logging.getLogger("kafka").setLevel(logging.WARNING)


def prepare_topics(s: Settings) -> None:
    """Create the readings topic if it is missing (idempotent); one clear error when Kafka does not answer."""
    from powercast.stream.topics import ensure_topics

    try:
        ensure_topics(s.bootstrap_servers, timeout=15, retention_ms=s.kafka_retention_ms)
    except PowercastError:
        raise
    except Exception as exc:  # noqa: BLE001 - the admin client raises its own exception types
        raise PowercastError(
            f"cannot reach Kafka at {s.bootstrap_servers} ({exc})", "start it with `powercast kafka start`"
        ) from exc


def control_dir(s: Settings) -> ControlDir:
    from powercast.simulator.control import ControlDir

    return ControlDir(s.resolved_data_dir / "simulator")


def register_fleet(s: Settings, fleet: list[Machine]) -> None:
    """Record the fleet in `machines`; without a reachable database, say so and go on publishing."""
    from powercast.db.connection import redact
    from powercast.simulator.machines_db import upsert_machines

    try:
        upsert_machines(s.app_database_url, fleet)
        typer.echo(f"registered {len(fleet)} machines in {redact(s.app_database_url)}")
    except PowercastError as exc:
        typer.echo(f"machines not registered ({exc})", err=True)
    except Exception as exc:  # noqa: BLE001 - e.g. the schema is missing; publishing goes on regardless
        typer.echo(
            f"machines not registered ({type(exc).__name__}: {str(exc).splitlines()[0]}): run `powercast db migrate`",
            err=True,
        )


@contextmanager
def stop_on_signals():
    """An event set by SIGTERM or Ctrl-C, so loops finish their chunk, flush and exit cleanly."""
    stop = threading.Event()
    handler = lambda signum, frame: stop.set()  # noqa: E731
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _report(stats: PublishStats, what: str, *, rate: bool = True) -> None:
    typer.echo(
        f"{what}: {stats.readings:,} readings and {stats.malformed:,} malformed events "
        f"over {stats.steps:,} steps in {stats.seconds:.1f} s" + (f" ({stats.rate:,.0f} records/s)" if rate else "")
    )


def _live(
    s: Settings,
    fleet: list[Machine],
    seed: int,
    interval: int,
    anomaly_rate: float,
    producer: str,
    backfill_days: float,
) -> None:
    from powercast.simulator.engine import FleetSimulator
    from powercast.simulator.producer import open_producer
    from powercast.simulator.publish import now_utc, run_live

    sim = FleetSimulator(fleet, seed=seed, interval_s=interval, anomaly_rate=anomaly_rate)
    now_step = sim.step_at(now_utc())
    start_step = now_step - round(backfill_days * 86_400 / interval)
    control = control_dir(s)
    sink = open_producer(producer, s.bootstrap_servers, READINGS_TOPIC)
    control.announce([m.machine_id for m in fleet], interval)
    typer.echo(
        f"simulating {len(fleet)} machines every {interval} s to {READINGS_TOPIC} at {s.bootstrap_servers}"
        + (f", starting {backfill_days:g} days back" if backfill_days else "")
        + "; Ctrl-C stops"
    )
    try:
        with stop_on_signals() as stop:
            stats = run_live(sim, sink, start_step, stop, control=control)
    finally:
        control.retire()
        sink.close()
    _report(stats, "stopped", rate=False)


def _prepare(ctx: typer.Context, machines: int, seed: int, interval: int, producer: str, register: bool):
    """Settings and fleet for a publishing command, after checking options, topics and the machines table."""
    from powercast.simulator.fleet import build_fleet

    s = settings(ctx)
    check_options(interval, producer)
    quiet_client_logs()
    prepare_topics(s)
    fleet = build_fleet(machines, seed)
    if register:
        register_fleet(s, fleet)
    return s, fleet


def simulate(
    ctx: typer.Context,
    machines: int = MACHINES,
    seed: int = SEED,
    interval: int = INTERVAL,
    anomaly_rate: float = ANOMALY_RATE,
    backfill_days: float = typer.Option(
        0.0, "--backfill-days", min=0.0, help="First publish this many days of history, then continue live."
    ),
    producer: str = PRODUCER,
    register: bool = REGISTER,
) -> None:
    """Publish live readings (one per sensor every --interval seconds) until SIGTERM or Ctrl-C."""
    s, fleet = _prepare(ctx, machines, seed, interval, producer, register)
    _live(s, fleet, seed, interval, anomaly_rate, producer, backfill_days)


def backfill(
    ctx: typer.Context,
    days: float = typer.Option(14.0, "--days", min=0.0, help="Days of history to publish, ending now."),
    machines: int = MACHINES,
    seed: int = SEED,
    interval: int = INTERVAL,
    anomaly_rate: float = ANOMALY_RATE,
    then_live: bool = typer.Option(False, "--then-live", help="Continue with live readings from now, without a gap."),
    producer: str = PRODUCER,
    register: bool = REGISTER,
) -> None:
    """Publish history with past timestamps as fast as the broker takes it (with a progress bar)."""
    s, fleet = _prepare(ctx, machines, seed, interval, producer, register)
    if then_live:
        _live(s, fleet, seed, interval, anomaly_rate, producer, days)
        return
    from powercast.simulator.publish import backfill as backfill_range
    from powercast.simulator.publish import now_utc

    end = now_utc()
    with stop_on_signals() as stop:
        stats = backfill_range(
            s,
            fleet,
            end - timedelta(days=days),
            end,
            seed=seed,
            interval_s=interval,
            anomaly_rate=anomaly_rate,
            producer=producer,
            progress=True,
            stop=stop,
        )
    _report(stats, "backfilled" if not stop.is_set() else "interrupted")


def inject(
    ctx: typer.Context,
    machine: str = typer.Option(..., "--machine", "-m", help="Machine id, e.g. M-003."),
    kind: str = typer.Option(..., "--kind", "-k", help=f"One of: {', '.join(KINDS)}."),
    minutes: float = typer.Option(10.0, "--minutes", help="How long the episode lasts."),
    magnitude: float = typer.Option(
        None, "--magnitude", help="overheating: °C; bearing_wear: m/s²; power_spike: × rated power."
    ),
    sensor: str = typer.Option(None, "--sensor", help="stuck_sensor: which sensor sticks (default: random)."),
) -> None:
    """Start an anomaly now on one machine of the running `powercast simulate`."""
    from powercast.simulator.control import InjectionRequest

    req = InjectionRequest(machine, kind, minutes, magnitude, sensor)
    control_dir(settings(ctx)).request(req)
    typer.echo(f"requested {kind} on {machine} for {minutes:g} min; the simulator applies it at its next tick")
