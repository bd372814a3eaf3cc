"""The Kafka → PostgreSQL ingestor: batching, idempotent writes, dead letters, metrics.

Modules, one job each: `batch` (pure: records → rows and dead letters), `writer` (COPY + idempotent insert,
retried through outages), `dead_letters` (the DLQ topic), `metrics` (counters, Prometheus, summary line),
`consumer` (the loop that reads, transforms, writes, then commits).
"""
