"""What an ingestor instance reads, where it sends dead letters, and how it batches."""

from __future__ import annotations

from dataclasses import dataclass

from powercast.names import DLQ_TOPIC, INGESTOR_GROUP, READINGS_TOPIC


@dataclass(frozen=True)
class IngestOptions:
    topic: str = READINGS_TOPIC
    group: str = INGESTOR_GROUP
    dlq_topic: str = DLQ_TOPIC
    batch_size: int = 10_000  # write when this many records are pending...
    batch_max_s: float = 0.5  # ...or when the oldest pending record has waited this long
    summary_every_s: float = 10.0  # one summary line in the log this often (0 = never)
    metrics_port: int = 0  # Prometheus /metrics port (0 = disabled)
    metrics_addr: str = "127.0.0.1"
    max_poll_wait_s: float = 0.1  # longest single wait on Kafka, so signals and deadlines are seen promptly
    retention_days: int = 0  # readings partitions older than this many days are dropped at start (0 = keep all)

    def __post_init__(self):
        if self.batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if self.batch_max_s <= 0:
            raise ValueError("batch_max_s must be positive")
        if self.retention_days < 0:
            raise ValueError("retention_days must be 0 (keep all) or more")
