"""The ingestor against the real broker and database: exactly the distinct valid rows, every bad record a
dead letter (table and DLQ topic), late and out-of-order events where they belong."""

from __future__ import annotations

import json
import random
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta

from powercast.stack.process import free_port
from powercast.stream.events import encode_event
from tests.integration.ingest_support import (
    dead_letter_count,
    fresh_topics,
    machine_prefix,
    produce,
    query,
    readings,
    row_count,
    running_ingestor,
    wait_until,
)


def _malformed(prefix: str) -> list[bytes | None]:
    ts = "2026-01-01T00:00:00Z"
    good = {
        "schema_version": 1,
        "event_id": str(uuid.uuid4()),
        "machine_id": f"{prefix}bad",
        "sensor": "power",
        "value": 1.0,
        "unit": "W",
        "ts": ts,
    }
    future = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [
        b"{not json",
        b"",
        None,  # a tombstone: no value at all
        b"\xff\xfe\x00garbage",
        json.dumps({**good, "schema_version": 9}).encode(),
        json.dumps({k: v for k, v in good.items() if k != "machine_id"}).encode(),
        json.dumps({**good, "sensor": "humidity"}).encode(),
        json.dumps({**good, "unit": "kW"}).encode(),
        json.dumps({**good, "value": "12.5"}).encode(),
        json.dumps({**good, "value": None}).encode(),
        b'{"schema_version": 1, "event_id": "%s", "machine_id": "X", "sensor": "power", "value": NaN, "unit": "W", '
        b'"ts": "2026-01-01T00:00:00Z"}' % str(uuid.uuid4()).encode(),
        json.dumps({**good, "ts": "2026-01-01T00:00:00"}).encode(),  # no zone
        json.dumps({**good, "ts": future}).encode(),
        json.dumps([1, 2, 3]).encode(),
    ]


def test_duplicates_and_malformed_events(services):
    bootstrap, url = services.bootstrap_servers, services.app_database_url
    topic, dlq = fresh_topics(bootstrap)
    prefix = machine_prefix()
    valid = readings(prefix, machines=5, steps=15)  # 300 distinct readings
    # Replays of 60 readings: the same payload, and the same (machine, sensor, ts) under a new event id.
    replays = valid[:30] + [(key, _new_event_id(payload)) for key, payload in valid[30:60]]
    bad = [(b"bad", payload) for payload in _malformed(prefix)]
    stream = valid + replays + bad
    random.Random(3).shuffle(stream)
    produce(bootstrap, topic, stream)

    port = free_port()
    with running_ingestor(bootstrap, url, topic, dlq, batch_size=64, metrics_port=port) as ingestor:
        wait_until(lambda: ingestor.counters.consumed == len(stream), what="the stream")
        wait_until(lambda: ingestor.counters.lag and not ingestor.counters.total_lag, what="lag to reach zero")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            metrics = response.read().decode()
    assert f"powercast_ingest_consumed_total {float(len(stream))}" in metrics
    lag_lines = [line for line in metrics.splitlines() if line.startswith("powercast_ingest_lag{")]
    assert lag_lines and all(f'topic="{topic}"' in line and line.endswith(" 0.0") for line in lag_lines)

    assert row_count(url, prefix) == len(valid)
    assert dead_letter_count(url, topic) == len(bad)
    counters = ingestor.counters
    assert (counters.written, counters.duplicates, counters.dead_letters) == (len(valid), len(replays), len(bad))
    reasons = [r[0] for r in query(url, "SELECT error FROM dead_letters WHERE topic = %s", (topic,))]
    assert all(reasons) and any("not valid JSON" in r for r in reasons) and any("future" in r for r in reasons)
    stored = query(url, "SELECT payload FROM dead_letters WHERE topic = %s AND payload IS NOT NULL", (topic,))
    assert sorted(bytes(p[0]) for p in stored) == sorted(p for _, p in bad if p is not None)
    assert _dlq_messages(bootstrap, dlq, len(bad)) == len(bad)


def test_replaying_the_topic_changes_nothing(services):
    bootstrap, url = services.bootstrap_servers, services.app_database_url
    topic, dlq = fresh_topics(bootstrap)
    prefix = machine_prefix()
    valid = readings(prefix, machines=2, steps=10)
    produce(bootstrap, topic, valid + [(b"k", b"oops")])
    with running_ingestor(bootstrap, url, topic, dlq) as first:
        wait_until(lambda: first.counters.batches and first.counters.consumed == len(valid) + 1, what="first pass")
    before = query(
        url,
        "SELECT machine_id, sensor, ts, value, event_id, ingested_at FROM readings "
        "WHERE machine_id LIKE %s ORDER BY 1, 2, 3",
        (prefix + "%",),
    )
    # A second group reads the whole topic again from the start.
    with running_ingestor(bootstrap, url, topic, dlq, group=f"replay-{topic}") as second:
        wait_until(lambda: second.counters.consumed == len(valid) + 1, what="replay")
    after = query(
        url,
        "SELECT machine_id, sensor, ts, value, event_id, ingested_at FROM readings "
        "WHERE machine_id LIKE %s ORDER BY 1, 2, 3",
        (prefix + "%",),
    )
    assert after == before and len(after) == len(valid)
    assert (second.counters.written, second.counters.duplicates) == (0, len(valid))
    assert dead_letter_count(url, topic) == 1


def test_late_and_out_of_order_events_land_where_they_belong(services):
    bootstrap, url = services.bootstrap_servers, services.app_database_url
    topic, dlq = fresh_topics(bootstrap)
    prefix = machine_prefix()
    now = datetime.now(UTC).replace(microsecond=0)
    on_time = readings(prefix, machines=3, steps=20, start=now - timedelta(minutes=5))
    shuffled = on_time[:]
    random.Random(7).shuffle(shuffled)  # out of order within and across partitions
    with running_ingestor(bootstrap, url, topic, dlq, batch_size=50) as ingestor:
        produce(bootstrap, topic, shuffled)
        wait_until(lambda: row_count(url, prefix) == len(on_time), what="on-time rows")
        # Late: readings from two days ago, and a gap in the middle of the live window, arriving afterwards.
        late = readings(prefix, machines=3, steps=5, start=now - timedelta(days=2))
        machine = f"{prefix}000"
        gap_ts = now - timedelta(minutes=5, seconds=-15)  # between two on-time timestamps
        late.append((machine.encode(), encode_event(machine, "power", 4242.0, gap_ts)))
        produce(bootstrap, topic, late[::-1])
        wait_until(lambda: row_count(url, prefix) == len(on_time) + len(late), what="late rows")
    expected = {}
    for _, payload in on_time + late:
        event = json.loads(payload)
        expected[(event["machine_id"], event["sensor"], _parse_ts(event["ts"]))] = event["value"]
    stored = query(url, "SELECT machine_id, sensor, ts, value FROM readings WHERE machine_id LIKE %s", (prefix + "%",))
    assert {(m, s, ts): v for m, s, ts, v in stored} == expected
    assert ingestor.counters.dead_letters == 0


def _new_event_id(payload: bytes) -> bytes:
    event = json.loads(payload)
    event["event_id"] = str(uuid.uuid4())
    return json.dumps(event, ensure_ascii=False).encode()


def _parse_ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _dlq_messages(bootstrap: str, topic: str, expected: int) -> int:
    """Read the DLQ topic from the start; every message must carry its reason in the `error` header."""
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
    seen = 0
    try:
        for _ in range(100):
            for message in consumer.consume(num_messages=100, timeout=0.2):
                if message.error() is None:
                    headers = dict(message.headers() or [])
                    assert headers.get("error"), "dead letter without a reason"
                    assert headers.get("source.topic") == topic.removesuffix(".dlq").encode()
                    seen += 1
            if seen >= expected:
                break
    finally:
        consumer.close()
    return seen


def test_two_instances_share_the_partitions_and_hand_over_cleanly(services):
    bootstrap, url = services.bootstrap_servers, services.app_database_url
    topic, dlq = fresh_topics(bootstrap, partitions=4)
    prefix = machine_prefix()
    stream = readings(prefix, machines=16, steps=15)  # 960 readings over enough keys to reach every partition
    thirds = [stream[i::3] for i in range(3)]
    group = f"shared-{topic}"
    with running_ingestor(bootstrap, url, topic, dlq, group=group, batch_size=50) as first:
        produce(bootstrap, topic, thirds[0])
        wait_until(lambda: row_count(url, prefix) == len(thirds[0]), what="the first instance's rows")
        with running_ingestor(bootstrap, url, topic, dlq, group=group, batch_size=50) as second:
            wait_until(
                lambda: second.assigned() and len(first.assigned()) + len(second.assigned()) == 4,
                timeout=60,
                what="the partitions to be shared",
            )
            produce(bootstrap, topic, thirds[1])
            wait_until(lambda: row_count(url, prefix) == len(thirds[0]) + len(thirds[1]), what="rows of both")
            assert first.counters.consumed and second.counters.consumed, "both instances should have read records"
        produce(bootstrap, topic, thirds[2])  # the second left: the first takes every partition back
        wait_until(lambda: row_count(url, prefix) == len(stream), what="every row")
    assert first.counters.consumed + second.counters.consumed >= len(stream)
    assert first.counters.written + second.counters.written == len(stream)
