"""The batch writer against the real database: idempotent inserts, and a row PostgreSQL refuses becomes a dead
letter while the rest of its batch is written."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from powercast.ingest.batch import PendingBatch
from powercast.ingest.writer import BatchWriter
from powercast.stream.events import encode_event
from tests.integration.ingest_support import machine_prefix, query, readings, row_count
from tests.unit.test_ingest_batch import FakeRecord

NOW = datetime.now(UTC)


def _batch(payloads, topic: str) -> PendingBatch:
    batch = PendingBatch()
    for offset, (key, payload) in enumerate(payloads):
        batch.add(FakeRecord(payload, _offset=offset, _topic=topic, _key=key), NOW)
    return batch


def test_writing_a_batch_twice_inserts_once(postgres):
    url, prefix = postgres.app_database_url, machine_prefix()
    payloads = readings(prefix, machines=2, steps=3, start=NOW - timedelta(hours=1))
    writer = BatchWriter(url)
    try:
        first = writer.write(_batch(payloads, f"w-{prefix}"))
        again = writer.write(_batch(payloads, f"w-{prefix}"))
    finally:
        writer.close()
    assert (first.inserted, first.duplicates) == (24, 0)
    assert (again.inserted, again.duplicates) == (0, 24)
    assert row_count(url, prefix) == 24


def test_a_row_the_database_refuses_is_dead_lettered_and_the_rest_written(postgres):
    url, prefix = postgres.app_database_url, machine_prefix()
    topic = f"w-{prefix}"
    batch = _batch(readings(prefix, machines=1, steps=2, start=NOW - timedelta(hours=1)), topic)
    # A reading that got past validation but that PostgreSQL refuses (here: a sensor its CHECK does not allow).
    batch.readings.insert(3, batch.readings[0]._replace(machine_id=f"{prefix}x", sensor="humidity"))
    batch.row_sources.insert(3, FakeRecord(b"{}", _offset=99, _topic=topic))
    writer = BatchWriter(url)
    try:
        result = writer.write(batch)
    finally:
        writer.close()
    assert result.inserted == 8 and len(result.rejected) == 1 and result.duplicates == 0
    assert row_count(url, prefix) == 8
    (error,) = query(url, 'SELECT error FROM dead_letters WHERE topic = %s AND "offset" = 99', (topic,))[0]
    assert error.startswith("rejected by PostgreSQL") and "readings_sensor_check" in error


def test_readings_are_stored_exactly_as_validated(postgres):
    url, prefix = postgres.app_database_url, machine_prefix()
    start = NOW.replace(microsecond=123_456) - timedelta(hours=1)
    sent = [
        (f"{prefix}a", "power", 1e-7, start),
        (f"{prefix}a", "vibration", -1234.5678901234567, start + timedelta(microseconds=1)),
        (f"{prefix}b.long-name:01", "temperature", 1.7976931348623157e308, start - timedelta(days=1)),
    ]
    payloads = []
    for machine, sensor, value, ts in sent:
        event = json.loads(encode_event(machine, sensor, value, ts))
        event["ts"] = ts.isoformat()  # to the microsecond (the encoder writes milliseconds)
        payloads.append((machine.encode(), json.dumps(event).encode()))
    batch = _batch(payloads, f"x-{prefix}")
    writer = BatchWriter(url)
    try:
        assert writer.write(batch).inserted == 3
    finally:
        writer.close()
    stored = query(
        url,
        "SELECT machine_id, sensor, value, ts, unit, event_id::text FROM readings WHERE machine_id LIKE %s "
        "ORDER BY machine_id, sensor",
        (f"{prefix}%",),
    )
    expected = sorted((r.machine_id, r.sensor, r.value, r.ts, r.unit, str(r.event_id)) for r in batch.readings)
    assert stored == expected
    assert {unit for *_, unit, _ in stored} == {"W", "m/s²", "°C"}


def test_new_readings_are_copied_directly_and_a_replay_goes_through_staging(postgres):
    url, prefix = postgres.app_database_url, machine_prefix()
    like = f"{prefix}%"
    first = readings(prefix, machines=2, steps=3, start=NOW - timedelta(hours=2))
    later = readings(prefix, machines=2, steps=3, start=NOW - timedelta(hours=1))
    writer = BatchWriter(url)
    try:
        assert writer.write(_batch(first, f"d-{prefix}")).inserted == 24 and writer.direct
        # the trigger on `readings` keeps each pair's newest reading for a direct COPY too
        latest = query(url, "SELECT count(*), min(ts), max(ts) FROM latest_readings WHERE machine_id LIKE %s", (like,))
        assert latest[0] == (8, _ts(first[-1]), _ts(first[-1]))
        # the first batch again, with two later readings: the direct COPY meets stored rows and is rolled back
        replay = writer.write(_batch([*first, *later[:2]], f"d-{prefix}"))
        assert (replay.inserted, replay.duplicates) == (2, 24) and not writer.direct
        # the staging path holds until a batch has no duplicates, then the writer copies directly again
        rest = writer.write(_batch(later[2:], f"d-{prefix}"))
        assert (rest.inserted, rest.duplicates) == (22, 0) and writer.direct
        # a batch holding the same reading twice is stored once
        twice = readings(prefix, machines=1, steps=1, start=NOW - timedelta(minutes=30))
        doubled = writer.write(_batch([*twice, *twice], f"d-{prefix}"))
        assert (doubled.inserted, doubled.duplicates) == (4, 4)
    finally:
        writer.close()
    assert row_count(url, prefix) == 24 + 24 + 4


def _ts(record: tuple[bytes, bytes]) -> datetime:
    return datetime.fromisoformat(json.loads(record[1])["ts"])


def test_units_are_stored_right_whatever_the_sessions_default_encoding(postgres, monkeypatch):
    # libpq reads PGCLIENTENCODING: a session that would read the UTF-8 bytes of the binary COPY as LATIN1
    monkeypatch.setenv("PGCLIENTENCODING", "LATIN1")
    url, prefix = postgres.app_database_url, machine_prefix()
    writer = BatchWriter(url)
    try:
        assert writer.write(_batch(readings(prefix, machines=1, steps=1), f"e-{prefix}")).inserted == 4
    finally:
        writer.close()
    monkeypatch.delenv("PGCLIENTENCODING")
    stored = query(url, "SELECT DISTINCT unit FROM readings WHERE machine_id LIKE %s", (f"{prefix}%",))
    assert sorted(unit for (unit,) in stored) == sorted(["W", "°C", "m/s²", "bar"])
