"""`powercast up|down|status`: the whole local runtime."""

from __future__ import annotations

import typer

from powercast.commands._context import settings
from powercast.db.connection import redact
from powercast.db.migrate import migrate
from powercast.stack.kafka import KafkaBroker, broker_answers
from powercast.stack.postgres import EmbeddedPostgres, check_reachable
from powercast.errors import PowercastError
from powercast.stream.topics import ensure_topics


def up(ctx: typer.Context) -> None:
    """Bring the local system up: PostgreSQL, schema, Kafka and topics. Prints where each part answers."""
    s = settings(ctx)
    url = EmbeddedPostgres(s).start()
    typer.echo(f"postgres   {redact(url)}")
    for m in migrate(url):
        typer.echo(f"           applied {m.path.name}")
    bootstrap = KafkaBroker(s).start() if s.embedded_kafka else s.bootstrap_servers
    ensure_topics(bootstrap)
    typer.echo(f"kafka      {bootstrap}")


def down(ctx: typer.Context) -> None:
    """Stop everything `powercast up` started (data stays in the data directory)."""
    s = settings(ctx)
    if s.embedded_kafka:
        typer.echo("kafka stopped" if KafkaBroker(s).stop() else "kafka was not running")
    typer.echo("postgres stopped" if EmbeddedPostgres(s).stop() else "postgres was not running (or is external)")


def status(ctx: typer.Context) -> None:
    """Tell which parts of the system run; exit 1 when one is down."""
    s = settings(ctx)
    healthy = True
    try:
        check_reachable(s.app_database_url)
        typer.echo(f"postgres   up    {redact(s.app_database_url)}")
    except PowercastError:
        healthy = False
        typer.echo(f"postgres   down  {redact(s.app_database_url)}")
    kafka_up = broker_answers(s.bootstrap_servers)
    healthy &= kafka_up
    typer.echo(f"kafka      {'up  ' if kafka_up else 'down'}  {s.bootstrap_servers}")
    if not healthy:
        raise typer.Exit(1)
