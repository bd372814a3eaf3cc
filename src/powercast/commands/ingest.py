"""`powercast ingest`: consume sensor readings from Kafka into PostgreSQL until stopped."""

from __future__ import annotations

import signal

import typer

from powercast.commands._context import settings
from powercast.errors import PowercastError
from powercast.names import DLQ_TOPIC, INGESTOR_GROUP, READINGS_TOPIC


def ingest(
    ctx: typer.Context,
    topic: str = typer.Option(READINGS_TOPIC, "--topic", help="Topic to consume."),
    group: str = typer.Option(
        INGESTOR_GROUP, "--group", help="Consumer group; instances in one group share partitions."
    ),
    dlq_topic: str = typer.Option(DLQ_TOPIC, "--dlq-topic", help="Topic that receives dead letters."),
    batch_size: int = typer.Option(10_000, "--batch-size", min=1, help="Write when this many records are pending."),
    batch_ms: int = typer.Option(
        500, "--batch-ms", min=1, help="...or when the oldest pending record waited this long."
    ),
    metrics_port: int = typer.Option(
        None, "--metrics-port", min=0, help="Port of /metrics (default POWERCAST_INGEST_METRICS_PORT; 0 disables)."
    ),
    metrics_host: str = typer.Option("127.0.0.1", "--metrics-host", help="Address /metrics listens on (0.0.0.0: all)."),
    summary_every: float = typer.Option(
        10.0, "--summary-every", min=0, help="Seconds between summary log lines (0: never)."
    ),
) -> None:
    """Consume readings, write them to PostgreSQL exactly once, dead-letter bad events. SIGTERM/Ctrl-C drains
    the current batch, commits and exits."""
    from powercast.ingest.consumer import Ingestor
    from powercast.ingest.options import IngestOptions
    from powercast.stack.postgres import check_reachable
    from powercast.stack.process import port_in_use

    s = settings(ctx)
    check_reachable(s.app_database_url)
    options = IngestOptions(
        topic=topic,
        group=group,
        dlq_topic=dlq_topic,
        batch_size=batch_size,
        batch_max_s=batch_ms / 1000,
        summary_every_s=summary_every,
        metrics_addr=metrics_host,
        metrics_port=s.ingest_metrics_port if metrics_port is None else metrics_port,
        retention_days=s.readings_retention_days,
    )
    if options.metrics_port and port_in_use(options.metrics_addr, options.metrics_port):
        raise PowercastError(
            f"metrics port {options.metrics_addr}:{options.metrics_port} is already in use",
            "pass --metrics-port with a free port, or 0 to disable /metrics",
        )
    ensure_dlq_topic(s.bootstrap_servers, dlq_topic, s.kafka_retention_ms)
    ingestor = Ingestor(s.bootstrap_servers, s.app_database_url, options)
    signal.signal(signal.SIGTERM, ingestor.request_stop)
    signal.signal(signal.SIGINT, ingestor.request_stop)
    counters = ingestor.run()
    typer.echo(f"ingest stopped: {counters.summary()}")


def ensure_dlq_topic(bootstrap: str, topic: str, retention_ms: int | None = None) -> None:
    """Dead letters need their topic; create it when missing (the broker does not auto-create topics)."""
    from powercast.names import DLQ_TOPIC_PARTITIONS
    from powercast.stream.topics import ensure_topics

    try:
        ensure_topics(bootstrap, {topic: DLQ_TOPIC_PARTITIONS}, timeout=15, retention_ms=retention_ms)
    except PowercastError:
        raise
    except Exception as exc:
        raise PowercastError(
            f"cannot reach Kafka at {bootstrap} ({exc})",
            "start it with `powercast kafka start`, or fix POWERCAST_KAFKA_BOOTSTRAP_SERVERS",
        ) from exc
