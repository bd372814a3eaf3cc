"""Kafka producers for readings: kafka-python (the default) or confluent-kafka (librdkafka, much faster).

Both publish with acks=all and idempotence, batch with a linger, compress, and partition by the murmur2 hash
of the key (the Java client's rule), so a machine's readings land on the same partition whichever is used.
A delivery failure is remembered and raised at the next `flush`, so nothing is lost silently.
"""

from __future__ import annotations

import logging
from typing import Protocol

from powercast.errors import PowercastError

log = logging.getLogger(__name__)
PRODUCERS = ("kafka-python", "confluent")
LINGER_MS = 20
BATCH_BYTES = 512 * 1024


class ReadingProducer(Protocol):
    def send(self, key: bytes, value: bytes) -> None: ...
    def flush(self, timeout: float | None = None) -> None: ...
    def close(self) -> None: ...


def default_compression() -> str | None:
    """lz4 when kafka-python can read it, else gzip: consumers built on kafka-python must decode every batch."""
    from kafka.codec import has_gzip, has_lz4

    return "lz4" if has_lz4() else "gzip" if has_gzip() else None


def _unreachable(bootstrap: str, exc: Exception) -> PowercastError:
    return PowercastError(
        f"cannot reach Kafka at {bootstrap} ({exc})",
        "start it with `powercast kafka start`, or fix POWERCAST_KAFKA_BOOTSTRAP_SERVERS",
    )


class KafkaPythonProducer:
    """kafka-python's KafkaProducer; the partition of each key is computed once and passed explicitly."""

    def __init__(self, bootstrap: str, topic: str, *, compression: str | None = "auto"):
        from kafka import KafkaProducer
        from kafka.errors import KafkaError
        from kafka.partitioner.default import murmur2

        if compression == "auto":
            compression = default_compression()
        try:
            self._producer = KafkaProducer(
                bootstrap_servers=bootstrap,
                acks="all",
                enable_idempotence=True,
                linger_ms=LINGER_MS,
                batch_size=BATCH_BYTES,
                compression_type=compression,
                metrics_enabled=False,
                bootstrap_timeout_ms=10_000,
            )
            partitions = sorted(self._producer.partitions_for(topic))
        except KafkaError as exc:
            raise _unreachable(bootstrap, exc) from exc
        self._topic = topic
        self._kafka_error = KafkaError
        self._partition_of = lambda key: partitions[(murmur2(key) & 0x7FFFFFFF) % len(partitions)]
        self._partitions: dict[bytes, int] = {}
        self._errors: list[Exception] = []

    def send(self, key: bytes, value: bytes) -> None:
        partition = self._partitions.get(key)
        if partition is None:
            partition = self._partitions[key] = self._partition_of(key)
        try:
            future = self._producer.send(self._topic, key=key, value=value, partition=partition)
        except self._kafka_error as exc:
            raise PowercastError(f"Kafka did not take a record ({exc})", "check that the broker is up") from exc
        future.add_errback(self._errors.append)

    def flush(self, timeout: float | None = None) -> None:
        self._producer.flush(timeout=timeout)
        if self._errors:
            raise PowercastError(
                f"Kafka refused {len(self._errors)} record(s): {self._errors[0]}", "check the broker's log"
            )

    def close(self) -> None:
        self._producer.close()


class ConfluentProducer:
    """confluent-kafka's Producer with the Java client's partitioner (murmur2)."""

    def __init__(self, bootstrap: str, topic: str, *, compression: str | None = "auto"):
        from confluent_kafka import KafkaException, Producer

        if compression == "auto":
            compression = default_compression()
        self._errors: list[str] = []
        self._producer = Producer(
            {
                "bootstrap.servers": bootstrap,
                "acks": "all",
                "enable.idempotence": True,
                "linger.ms": LINGER_MS,
                "batch.size": 1_000_000,
                "queue.buffering.max.messages": 1_000_000,
                "compression.type": compression or "none",
                "partitioner": "murmur2_random",
                "delivery.report.only.error": True,
                "on_delivery": self._on_delivery,
                "error_cb": lambda err: log.warning("kafka: %s", err),
            }
        )
        try:
            self._producer.list_topics(topic, timeout=10)
        except KafkaException as exc:
            raise _unreachable(bootstrap, exc) from exc
        self._topic = topic

    def _on_delivery(self, err, _msg) -> None:
        if err is not None:
            self._errors.append(str(err))

    def send(self, key: bytes, value: bytes) -> None:
        while True:
            try:
                self._producer.produce(self._topic, value, key)
                return
            except BufferError:
                self._producer.poll(0.05)

    def flush(self, timeout: float | None = None) -> None:
        left = self._producer.flush(-1 if timeout is None else timeout)
        if left:
            raise PowercastError(f"{left} record(s) were not delivered in time", "check that Kafka is up")
        if self._errors:
            raise PowercastError(
                f"Kafka refused {len(self._errors)} record(s): {self._errors[0]}", "check the broker's log"
            )

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._producer = None  # librdkafka shuts down when the last reference goes


def open_producer(kind: str, bootstrap: str, topic: str) -> ReadingProducer:
    """A producer of the given kind (`kafka-python` or `confluent`) connected to `bootstrap`."""
    if kind == "kafka-python":
        return KafkaPythonProducer(bootstrap, topic)
    if kind == "confluent":
        return ConfluentProducer(bootstrap, topic)
    raise PowercastError(f"unknown producer {kind!r}", f"use one of {', '.join(PRODUCERS)}")
