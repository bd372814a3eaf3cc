"""The Kafka → PostgreSQL ingestor: batching, idempotent writes, dead letters, metrics.

Modules, one job each: `batch` (pure: records → COPY rows and dead letters), `writer` (COPY + idempotent
insert, retried through outages), `dead_letters` (the DLQ topic), `offsets` (synchronous commits), `metrics`
(counters, Prometheus, summary line), `logs` (librdkafka logging), `options`, and `consumer` (the loop that
reads, transforms, writes, then commits).
"""
