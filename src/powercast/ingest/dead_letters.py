"""Publishes dead letters to the DLQ topic: the original key and payload, the reason and origin in headers.

The copy on the topic is best effort; the `dead_letters` table is the record. A copy larger than the topic takes
is sent truncated, with the original's size and SHA-256 in headers; one that cannot fit even so, and any error of
the producer, is logged and counted, never raised: a dead letter cannot stop ingest.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass

from powercast.ingest.batch import DeadLetter
from powercast.ingest.logs import kafka_logger

log = logging.getLogger(__name__)

# The broker's `message.max.bytes` default, which topics inherit as `max.message.bytes`: the size limit assumed
# when the topic's own cannot be read.
KAFKA_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588
# Room kept for what Kafka wraps around one record: the 61-byte record batch header and at most 41 bytes of
# record framing (varint lengths, deltas, attributes), rounded up.
RECORD_FRAMING_BYTES = 128
HEADER_FRAMING_BYTES = 10  # the two varint lengths around each header's name and value, at most


@dataclass(frozen=True)
class DlqMessage:
    """What goes on the DLQ topic for one dead letter."""

    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]
    truncated: bool = False


def dlq_headers(letter: DeadLetter) -> list[tuple[str, bytes]]:
    return [
        ("error", letter.error.encode()),
        ("reason", letter.reason.encode()),
        ("source.topic", letter.topic.encode()),
        ("source.partition", str(letter.partition).encode()),
        ("source.offset", str(letter.offset).encode()),
    ]


def dlq_message(letter: DeadLetter, max_bytes: int) -> DlqMessage | None:
    """The copy of `letter` for a topic that takes records of up to `max_bytes` (its `max.message.bytes`).
    A payload that does not fit is cut to what does, and `original.size` and `original.sha256` (hex) headers
    describe the whole; None when even the key and headers alone do not fit."""
    headers = dlq_headers(letter)
    budget = max_bytes - RECORD_FRAMING_BYTES - len(letter.key or b"")
    payload = letter.payload or b""
    if _headers_size(headers) + len(payload) <= budget:
        return DlqMessage(letter.key, letter.payload, headers)
    headers += [
        ("original.size", str(len(payload)).encode()),
        ("original.sha256", hashlib.sha256(payload).hexdigest().encode()),
    ]
    room = budget - _headers_size(headers)
    if room < 0:
        return None
    return DlqMessage(letter.key, payload[:room], headers, truncated=True)


def topic_max_bytes(bootstrap: str, topic: str, *, timeout_s: float = 5.0) -> int:
    """The topic's `max.message.bytes` as the broker reports it; the Kafka default when it cannot be read (no
    DescribeConfigs permission, broker unreachable, a topic too new to be known yet)."""
    from confluent_kafka.admin import AdminClient, ConfigResource, ResourceType

    admin = AdminClient({"bootstrap.servers": bootstrap, "logger": kafka_logger()})
    deadline = time.monotonic() + timeout_s
    while True:
        resource = ConfigResource(ResourceType.TOPIC, topic)
        (future,) = admin.describe_configs([resource], request_timeout=timeout_s).values()
        try:
            return int(future.result(timeout=timeout_s)["max.message.bytes"].value)
        except Exception as exc:
            if time.monotonic() + 0.2 > deadline:
                log.warning(
                    "could not read max.message.bytes of %s (%s); assuming Kafka's default of %d bytes",
                    topic,
                    exc,
                    KAFKA_DEFAULT_MAX_MESSAGE_BYTES,
                )
                return KAFKA_DEFAULT_MAX_MESSAGE_BYTES
            time.sleep(0.2)


class DeadLetterTopic:
    """A small idempotent producer for the DLQ topic. The `dead_letters` table is the durable record; the topic
    is at-least-once (a replay after a crash may publish a letter again) and best effort: `publish` never raises.
    `failures` counts letters whose copy did not reach the topic, `truncated` those sent cut to its size limit."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        *,
        timeout_s: float = 10.0,
        max_bytes: int | None = None,
        producer=None,
    ):
        self.topic = topic
        self.timeout_s = timeout_s
        self.max_bytes = max_bytes or topic_max_bytes(bootstrap, topic)
        self.failures = 0
        self.truncated = 0
        self._producer = producer or _producer(bootstrap, self.max_bytes)

    def publish(self, letters: list[DeadLetter]) -> int:
        """Send `letters` and wait for the broker; returns how many copies did not reach the topic. Never raises."""
        if not letters:
            return 0
        try:
            return self._publish(letters)
        except Exception:  # a last resort: whatever the producer does, the batch's offsets still get committed
            log.exception("DLQ topic %s: publishing %d dead letter(s) failed", self.topic, len(letters))
            self.failures += len(letters)
            return len(letters)

    def _publish(self, letters: list[DeadLetter]) -> int:
        failed: list = []

        def delivered(err, msg):
            if err is not None:
                failed.append(err)

        for letter in letters:
            message = dlq_message(letter, self.max_bytes)
            if message is None:
                failed.append(f"{letter.topic}[{letter.partition}]@{letter.offset}: key and headers alone too large")
                continue
            if self._send(message, delivered) and message.truncated:
                self.truncated += 1
        remaining = self._producer.flush(self.timeout_s)
        lost = len(failed) + remaining
        if lost:
            self.failures += lost
            log.warning(
                "DLQ topic %s did not take %d dead letter(s) (%s); they are kept in the dead_letters table",
                self.topic,
                lost,
                failed[0] if failed else "timed out",
            )
        return lost

    def _send(self, message: DlqMessage, callback) -> bool:
        """Hand one message to the producer; False (and the error reported to `callback`) when it refused it."""
        from confluent_kafka import KafkaException

        deadline = time.monotonic() + self.timeout_s
        while True:
            try:
                self._producer.produce(
                    self.topic, key=message.key, value=message.value, headers=message.headers, on_delivery=callback
                )
                return True
            except BufferError as exc:  # local queue full: let deliveries drain, for a while
                if time.monotonic() >= deadline:
                    callback(f"producer queue still full after {self.timeout_s:.0f} s ({exc})", None)
                    return False
                self._producer.poll(0.1)
            except KafkaException as exc:
                callback(exc.args[0] if exc.args else exc, None)
                return False

    def close(self) -> None:
        self._producer.flush(self.timeout_s)


def _producer(bootstrap: str, max_bytes: int):
    from confluent_kafka import Producer

    return Producer(
        {
            "bootstrap.servers": bootstrap,
            "acks": "all",
            "enable.idempotence": True,
            "linger.ms": 5,
            "message.timeout.ms": 300_000,
            # librdkafka's default (1,000,000) is below the broker's; it accepts 1,000 to 1,000,000,000.
            "message.max.bytes": min(max(max_bytes, 1_000), 1_000_000_000),
        },
        logger=kafka_logger(),
    )


def _headers_size(headers: list[tuple[str, bytes]]) -> int:
    return sum(len(name.encode()) + len(value) + HEADER_FRAMING_BYTES for name, value in headers)
