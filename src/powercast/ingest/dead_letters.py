"""Publishes dead letters to the DLQ topic: the original key and payload, the reason and origin in headers."""

from __future__ import annotations

import logging

from powercast.ingest.batch import DeadLetter
from powercast.ingest.logs import kafka_logger

log = logging.getLogger(__name__)


def dlq_headers(letter: DeadLetter) -> list[tuple[str, bytes]]:
    return [
        ("error", letter.error.encode()),
        ("source.topic", letter.topic.encode()),
        ("source.partition", str(letter.partition).encode()),
        ("source.offset", str(letter.offset).encode()),
    ]


class DeadLetterTopic:
    """A small idempotent producer for the DLQ topic. The `dead_letters` table is the durable record; the topic
    is at-least-once (a replay after a crash may publish a letter again)."""

    def __init__(self, bootstrap: str, topic: str, *, timeout_s: float = 10.0):
        from confluent_kafka import Producer

        self.topic = topic
        self.timeout_s = timeout_s
        self.failures = 0
        self._producer = Producer(
            {
                "bootstrap.servers": bootstrap,
                "acks": "all",
                "enable.idempotence": True,
                "linger.ms": 5,
                "message.timeout.ms": 300_000,
            },
            logger=kafka_logger(),
        )

    def publish(self, letters: list[DeadLetter]) -> int:
        """Send `letters` and wait for the broker; returns how many it did not accept."""
        if not letters:
            return 0
        failed = []

        def delivered(err, msg):
            if err is not None:
                failed.append(err)

        for letter in letters:
            self._send(letter, delivered)
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

    def _send(self, letter: DeadLetter, callback) -> None:
        while True:
            try:
                self._producer.produce(
                    self.topic, key=letter.key, value=letter.payload, headers=dlq_headers(letter), on_delivery=callback
                )
                return
            except BufferError:  # local queue full: let deliveries drain
                self._producer.poll(0.1)

    def close(self) -> None:
        self._producer.flush(self.timeout_s)
