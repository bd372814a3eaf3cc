"""`powercast kafka start|stop|status|topics`."""

from __future__ import annotations

import typer

from powercast.commands._context import settings
from powercast.commands._group import group

app = group("Run the embedded Apache Kafka broker (KRaft, single node).", no_args_is_help=True)


@app.command()
def start(ctx: typer.Context) -> None:
    """Fetch Kafka from Maven Central if needed, start the broker and create powercast's topics."""
    from powercast.stack.kafka import KafkaBroker
    from powercast.stream.topics import ensure_topics

    s = settings(ctx)
    bootstrap = KafkaBroker(s).start()
    created = ensure_topics(bootstrap, retention_ms=s.kafka_retention_ms)
    typer.echo(f"kafka running at {bootstrap}" + (f" (created topics: {', '.join(created)})" if created else ""))


@app.command()
def stop(ctx: typer.Context) -> None:
    """Stop the embedded broker and every process it started."""
    from powercast.stack.kafka import KafkaBroker

    stopped = KafkaBroker(settings(ctx)).stop()
    typer.echo("kafka stopped" if stopped else "kafka was not running")


@app.command()
def status(ctx: typer.Context) -> None:
    """Print the bootstrap address and whether the broker answers; exit 1 when it does not."""
    from powercast.stack.kafka import broker_answers

    s = settings(ctx)
    if broker_answers(s.bootstrap_servers):
        typer.echo(f"kafka running at {s.bootstrap_servers}")
        return
    typer.echo(f"kafka not running (expected at {s.bootstrap_servers})")
    raise typer.Exit(1)


@app.command()
def topics(ctx: typer.Context) -> None:
    """Create powercast's topics on the configured cluster and set their retention (idempotent)."""
    from powercast.stream.topics import ensure_topics

    s = settings(ctx)
    created = ensure_topics(s.bootstrap_servers, retention_ms=s.kafka_retention_ms)
    typer.echo(f"created: {', '.join(created)}" if created else "all topics exist")


@app.command()
def fetch(ctx: typer.Context) -> None:
    """Download Kafka's jars into the data directory without starting anything."""
    from powercast.stack.kafka import KafkaBroker

    libs = KafkaBroker(settings(ctx)).provision()
    typer.echo(f"kafka jars in {libs}")
