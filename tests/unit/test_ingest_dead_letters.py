"""The DLQ copy of a dead letter: whole when it fits the topic, truncated with the original's size and digest
when it does not, skipped when not even its key and headers fit; no producer error ever escapes `publish`."""

from __future__ import annotations

import hashlib
import os

import pytest
from confluent_kafka import KafkaError, KafkaException

from powercast.ingest.batch import DeadLetter
from powercast.ingest.dead_letters import (
    HEADER_FRAMING_BYTES,
    RECORD_FRAMING_BYTES,
    DeadLetterTopic,
    dlq_message,
)

LIMIT = 1_048_588  # Kafka's default max.message.bytes


def _letter(payload: bytes | None, key: bytes | None = b"M-1", offset: int = 7) -> DeadLetter:
    return DeadLetter("sensor.readings", 2, offset, key, payload, "not valid JSON: expected value", "json")


def _wire_size(key, value, headers) -> int:
    """An upper bound of what the record takes in a batch: the size `dlq_message` must keep within the limit."""
    framing = RECORD_FRAMING_BYTES + HEADER_FRAMING_BYTES * len(headers)
    return framing + len(key or b"") + len(value or b"") + sum(len(n) + len(v) for n, v in headers)


def test_a_letter_that_fits_is_copied_whole_without_extra_headers():
    letter = _letter(os.urandom(1_000_000))
    message = dlq_message(letter, LIMIT)
    assert message.value == letter.payload and message.key == b"M-1" and not message.truncated
    assert [name for name, _ in message.headers] == [
        "error",
        "reason",
        "source.topic",
        "source.partition",
        "source.offset",
    ]


def test_an_oversized_payload_is_truncated_to_the_limit_with_its_size_and_digest():
    payload = os.urandom(LIMIT)  # as large as a record can be: with headers the copy is over the limit
    message = dlq_message(_letter(payload), LIMIT)
    headers = dict(message.headers)
    assert message.truncated and payload.startswith(message.value) and len(message.value) < len(payload)
    assert headers["original.size"] == str(LIMIT).encode()
    assert headers["original.sha256"] == hashlib.sha256(payload).hexdigest().encode()
    assert headers["source.offset"] == b"7" and headers["error"].startswith(b"not valid JSON")
    assert LIMIT - 64 <= _wire_size(message.key, message.value, message.headers) <= LIMIT


def test_a_small_limit_truncates_too():
    message = dlq_message(_letter(b"x" * 5_000), 2_000)
    assert message.truncated and 0 < len(message.value) < 2_000
    assert _wire_size(message.key, message.value, message.headers) <= 2_000


def test_a_letter_whose_key_alone_is_too_large_is_skipped():
    assert dlq_message(_letter(b"{", key=os.urandom(LIMIT)), LIMIT) is None


def test_an_empty_record_is_copied_as_it_is():
    message = dlq_message(_letter(None), LIMIT)
    assert message.value is None and not message.truncated


class FakeProducer:
    """Records what is produced and replays delivery reports on flush; `refuse` makes produce() raise."""

    def __init__(self, refuse: BaseException | None = None, delivery_error: KafkaError | None = None):
        self.refuse = refuse
        self.delivery_error = delivery_error
        self.sent: list[dict] = []
        self._pending: list = []

    def produce(self, topic, key=None, value=None, headers=None, on_delivery=None):
        if self.refuse is not None:
            raise self.refuse
        self.sent.append({"topic": topic, "key": key, "value": value, "headers": dict(headers)})
        self._pending.append(on_delivery)

    def poll(self, timeout):
        return 0

    def flush(self, timeout):
        for callback in self._pending:
            callback(self.delivery_error, None)
        self._pending.clear()
        return 0


def _topic(producer: FakeProducer, max_bytes: int = LIMIT, timeout_s: float = 10.0) -> DeadLetterTopic:
    return DeadLetterTopic("unused:9092", "t.dlq", max_bytes=max_bytes, producer=producer, timeout_s=timeout_s)


def test_publish_sends_truncated_copies_and_counts_them():
    producer = FakeProducer()
    dlq = _topic(producer)
    assert dlq.publish([_letter(os.urandom(LIMIT)), _letter(b"{", offset=8)]) == 0
    assert [len(m["value"]) < LIMIT for m in producer.sent] == [True, True]
    assert (dlq.truncated, dlq.failures) == (1, 0)


@pytest.mark.parametrize(
    "refuse",
    [
        KafkaException(KafkaError(KafkaError.MSG_SIZE_TOO_LARGE)),
        KafkaException(KafkaError(KafkaError._UNKNOWN_TOPIC)),
        BufferError("Local: Queue full"),
    ],
    ids=["too-large", "unknown-topic", "queue-full"],
)
def test_a_producer_that_refuses_is_counted_not_raised(refuse):
    dlq = _topic(FakeProducer(refuse=refuse), timeout_s=0.2)
    assert dlq.publish([_letter(b"{"), _letter(b"[", offset=8)]) == 2
    assert dlq.failures == 2


def test_delivery_errors_are_counted():
    dlq = _topic(FakeProducer(delivery_error=KafkaError(KafkaError.MSG_SIZE_TOO_LARGE)))
    assert dlq.publish([_letter(b"{")]) == 1 and dlq.failures == 1


def test_a_letter_that_cannot_fit_is_skipped_and_counted():
    producer = FakeProducer()
    dlq = _topic(producer, max_bytes=1_000)
    assert dlq.publish([_letter(b"{", key=b"k" * 2_000), _letter(b"[", offset=8)]) == 1
    assert len(producer.sent) == 1 and dlq.failures == 1


def test_an_unexpected_producer_error_is_counted_not_raised():
    dlq = _topic(FakeProducer(refuse=RuntimeError("producer closed")))
    assert dlq.publish([_letter(b"{")]) == 1 and dlq.failures == 1
