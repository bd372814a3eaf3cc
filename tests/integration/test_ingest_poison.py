"""Oversized poison records: a 1 MB record and one at the broker's size limit, each followed by valid readings.
Ingest goes on past both, each is one dead letter in PostgreSQL, the DLQ topic gets a copy (truncated, with the
original's size and digest, when the original does not fit), and a rerun over the same offsets adds nothing."""

from __future__ import annotations

import base64
import hashlib
import os
import uuid

from tests.integration.ingest_support import (
    fresh_topics,
    machine_prefix,
    produce,
    query,
    readings,
    rewind_group,
    row_count,
    running_ingestor,
    topic_setting,
    wait_until,
)

KEY = b"poison"
# A record batch holding one record costs 61 bytes of batch header plus 11 of record framing (attributes, deltas,
# key and value lengths, header count, record length) when the value length takes a 3-byte varint, as here.
ONE_RECORD_OVERHEAD = 72
BIG_PRODUCER = {"message.max.bytes": 2_000_000}  # librdkafka's own default (1,000,000) would refuse these records


def _poison(size: int) -> bytes:
    """`size` bytes of invalid JSON around base64 of random bytes (nothing a compressor can shrink much)."""
    body = base64.b64encode(os.urandom(size))
    return (b'{"schema_version": 1, "blob": ' + body)[:size]


def _largest_record_value(bootstrap: str, topic: str) -> int:
    """The largest value (with KEY, no headers) the broker takes on `topic`: its max.message.bytes minus framing."""
    return int(topic_setting(bootstrap, topic, "max.message.bytes")) - ONE_RECORD_OVERHEAD - len(KEY)


def _refused(bootstrap: str, topic: str, value: bytes) -> str | None:
    """Produce `value` alone; the broker's error code name, or None when it was stored."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "log_level": 0, **BIG_PRODUCER})
    outcome: list = []
    producer.produce(topic, key=KEY, value=value, on_delivery=lambda err, msg: outcome.append(err))
    assert producer.flush(30) == 0
    return None if outcome[0] is None else outcome[0].name()


def _dlq_copies(bootstrap: str, topic: str, expected: int) -> dict[int, tuple[bytes, dict[str, bytes]]]:
    """Source offset -> (value, headers) of every message on the DLQ topic, read from the start."""
    from confluent_kafka import Consumer

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"check-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    copies: dict[int, tuple[bytes, dict[str, bytes]]] = {}
    try:
        for _ in range(150):
            for message in consumer.consume(num_messages=10, timeout=0.2):
                if message.error() is None:
                    headers = dict(message.headers() or [])
                    copies[int(headers["source.offset"])] = (message.value(), headers)
            if len(copies) >= expected:
                break
    finally:
        consumer.close()
    return copies


def test_oversized_poison_records_neither_stop_ingest_nor_duplicate_on_a_rerun(services):
    bootstrap, url = services.bootstrap_servers, services.app_database_url
    topic, dlq = fresh_topics(bootstrap, partitions=1)  # one partition: the valid readings queue behind the poison
    prefix = machine_prefix()
    valid = readings(prefix, machines=3, steps=10)  # 120 readings, in three runs around the two bad records
    runs = [valid[:40], valid[40:80], valid[80:]]
    at_limit = _largest_record_value(bootstrap, topic)
    assert _refused(bootstrap, topic, _poison(at_limit + 1)) == "MSG_SIZE_TOO_LARGE"  # one byte more is refused
    one_mb, largest = _poison(1_000_000), _poison(at_limit)

    produce(bootstrap, topic, runs[0])
    ((_, one_mb_offset),) = produce(bootstrap, topic, [(KEY, one_mb)], config=BIG_PRODUCER)
    produce(bootstrap, topic, runs[1])
    ((_, largest_offset),) = produce(bootstrap, topic, [(KEY, largest)], config=BIG_PRODUCER)
    produce(bootstrap, topic, runs[2])
    total = len(valid) + 2

    with running_ingestor(bootstrap, url, topic, dlq, batch_size=50) as first:
        wait_until(lambda: row_count(url, prefix) == len(valid), timeout=60, what="every valid reading")
        wait_until(lambda: first.committed_offset(topic, 0) == total, what="the offsets to be committed")
    assert (first.counters.written, first.counters.dead_letters) == (len(valid), 2)
    assert (first.counters.dlq_failures, first.counters.dlq_truncated) == (0, 1)
    stored = query(url, 'SELECT "offset", payload FROM dead_letters WHERE topic = %s ORDER BY 1', (topic,))
    assert [(offset, bytes(payload)) for offset, payload in stored] == [
        (one_mb_offset, one_mb),
        (largest_offset, largest),
    ]

    copies = _dlq_copies(bootstrap, dlq, expected=2)
    assert sorted(copies) == [one_mb_offset, largest_offset]
    value, headers = copies[one_mb_offset]  # fits the DLQ topic whole
    assert value == one_mb and "original.size" not in headers
    value, headers = copies[largest_offset]  # its headers would push it over the limit: sent truncated
    assert len(value) < len(largest) and largest.startswith(value)
    assert headers["original.size"] == str(len(largest)).encode()
    assert headers["original.sha256"] == hashlib.sha256(largest).hexdigest().encode()

    # A rerun over the same offsets (as after a crash before the offset commit) stores nothing twice.
    rewind_group(bootstrap, f"g-{topic}", topic, partitions=1)
    with running_ingestor(bootstrap, url, topic, dlq, batch_size=50) as second:
        wait_until(lambda: second.counters.consumed == total, timeout=60, what="the rerun")
        wait_until(lambda: second.committed_offset(topic, 0) == total, what="the rerun's commit")
    assert (second.counters.written, second.counters.duplicates) == (0, len(valid))
    assert row_count(url, prefix) == len(valid)
    offsets = query(url, 'SELECT "offset" FROM dead_letters WHERE topic = %s ORDER BY 1', (topic,))
    assert offsets == [(one_mb_offset,), (largest_offset,)]
