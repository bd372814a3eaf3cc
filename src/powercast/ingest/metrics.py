"""The ingestor's counters: plain integers on the hot path, exposed as Prometheus metrics and a summary line."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

PREFIX = "powercast_ingest"


@dataclass
class IngestCounters:
    consumed: int = 0
    written: int = 0
    duplicates: int = 0
    dead_letters_by_reason: dict[str, int] = field(default_factory=dict)  # reason code -> records
    batches: int = 0
    db_retries: int = 0
    commit_failures: int = 0
    dlq_failures: int = 0
    dlq_truncated: int = 0
    write_seconds: float = 0.0  # time from handing a batch to the writer until it was committed in PostgreSQL
    last_commit_time: float | None = None  # unix time of the last successful offset commit
    lag: dict[tuple[str, int], int] = field(default_factory=dict)  # (topic, partition) -> records behind
    started: float = field(default_factory=time.monotonic)

    @property
    def dead_letters(self) -> int:
        return sum(self.dead_letters_by_reason.values())

    def count_dead_letters(self, letters) -> None:
        for letter in letters:
            self.dead_letters_by_reason[letter.reason] = self.dead_letters_by_reason.get(letter.reason, 0) + 1

    @property
    def total_lag(self) -> int:
        return sum(self.lag.values())

    def summary(self) -> str:
        """One line for the log."""
        elapsed = max(time.monotonic() - self.started, 1e-9)
        since_commit = "never" if self.last_commit_time is None else f"{time.time() - self.last_commit_time:.1f}s ago"
        return (
            f"consumed={self.consumed} written={self.written} duplicates={self.duplicates} "
            f"dead_letters={self.dead_letters} batches={self.batches} lag={self.total_lag} "
            f"db_retries={self.db_retries} db_busy={self.write_seconds / elapsed:.0%} "
            f"rate={self.consumed / elapsed:.0f}/s last_commit={since_commit}"
        )


class CountersCollector:
    """A prometheus_client collector that reads the counters at scrape time (no locking on the hot path:
    a scrape may see one batch half-counted, which Prometheus tolerates)."""

    def __init__(self, counters: IngestCounters):
        self.counters = counters

    def collect(self):
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        c = self.counters
        for name, value, help_text in (
            ("consumed", c.consumed, "Records read from Kafka."),
            ("written", c.written, "Rows inserted into readings."),
            ("duplicates", c.duplicates, "Valid records whose row already existed."),
            ("batches", c.batches, "Batches written and committed."),
            ("db_retries", c.db_retries, "Batch writes retried after a database error."),
            ("commit_failures", c.commit_failures, "Offset commits that failed."),
            ("dlq_failures", c.dlq_failures, "Dead letters whose copy did not reach the DLQ topic."),
            ("dlq_truncated", c.dlq_truncated, "Dead letters copied to the DLQ topic with a truncated payload."),
            ("write_seconds", c.write_seconds, "Seconds spent writing batches to PostgreSQL."),
        ):
            yield CounterMetricFamily(f"{PREFIX}_{name}", help_text, value=value)
        dead = CounterMetricFamily(
            f"{PREFIX}_dead_letters", "Records sent to dead letters, per reason.", labels=["reason"]
        )
        for reason, value in sorted(dict(c.dead_letters_by_reason).items()):
            dead.add_metric([reason], value)
        yield dead
        lag = GaugeMetricFamily(
            f"{PREFIX}_lag", "Records behind the high watermark, per partition.", labels=["topic", "partition"]
        )
        for (topic, partition), value in sorted(c.lag.items()):
            lag.add_metric([topic, str(partition)], value)
        yield lag
        yield GaugeMetricFamily(
            f"{PREFIX}_last_commit_timestamp_seconds",
            "Unix time of the last offset commit.",
            value=c.last_commit_time or 0.0,
        )


def serve_metrics(counters: IngestCounters, port: int, addr: str = "127.0.0.1"):
    """Serve /metrics on `port` (0 = disabled). Returns the server (call .shutdown()) or None."""
    if not port:
        return None
    from prometheus_client import CollectorRegistry, start_http_server

    registry = CollectorRegistry(auto_describe=False)
    registry.register(CountersCollector(counters))
    server, _thread = start_http_server(port, addr=addr, registry=registry)
    return server
