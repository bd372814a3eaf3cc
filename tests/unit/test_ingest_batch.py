"""The ingestor's pure parts: records become rows or dead letters, batches close by count and age, offsets +1,
retries back off and give up only on a stop, and the counters render as Prometheus text."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg2
import pytest

from powercast.ingest.batch import PendingBatch, commit_offsets
from powercast.ingest.dead_letters import dlq_headers
from powercast.ingest.metrics import CountersCollector, IngestCounters
from powercast.ingest.options import IngestOptions
from powercast.ingest.writer import Backoff, WriteResult, write_with_retry
from powercast.stream.events import ReadingEvent, encode_event

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TS = datetime(2026, 11, 25, 11, 59, 50, tzinfo=UTC)


@dataclass
class FakeRecord:
    _value: bytes | None
    _offset: int = 0
    _partition: int = 0
    _topic: str = "t"
    _key: bytes | None = b"M-1"  # the machine_id of the events below

    def topic(self):
        return self._topic

    def partition(self):
        return self._partition

    def offset(self):
        return self._offset

    def key(self):
        return self._key

    def value(self):
        return self._value


def test_valid_record_becomes_a_reading():
    event_id = uuid.uuid4()
    batch = PendingBatch()
    assert batch.add(FakeRecord(encode_event("M-1", "vibration", 0.25, TS, event_id=event_id)), NOW, clock=0.0)
    assert batch.readings == [ReadingEvent(event_id, "M-1", "vibration", 0.25, "m/s²", TS)]
    assert batch.dead_letters == [] and len(batch) == 1 and batch.days == {TS.date()}


def test_the_copy_stream_holds_every_reading_added_after_an_earlier_encoding():
    from powercast.ingest.copy_binary import encode_readings

    batch = PendingBatch()
    batch.add(FakeRecord(encode_event("M-1", "power", 1.0, TS)), NOW, clock=0.0)
    first = batch.copy_data()
    batch.add(FakeRecord(encode_event("M-1", "power", 2.0, TS.replace(second=0)), _offset=1), NOW, clock=0.0)
    assert batch.copy_data() == encode_readings(batch.readings) != first
    batch.clear()
    assert batch.copy_data() == encode_readings([])


@pytest.mark.parametrize(
    "payload,key,message,code",
    [
        (b"{oops", b"M-1", "not valid JSON", "json"),
        (None, b"M-1", "empty record", "empty"),
        (encode_event("M-1", "power", 1.0, datetime(2026, 11, 26, tzinfo=UTC)), b"M-1", "in the future", "future"),
        (b'{"schema_version": 1}', b"M-1", "Field required", "schema"),
        (encode_event("M-1", "power", 1.0, TS), b"M-2", "not the event's machine_id", "key_mismatch"),
        (encode_event("M-1", "power", 1.0, TS), None, "no key", "key_mismatch"),
    ],
)
def test_bad_record_becomes_a_dead_letter_with_its_origin_and_reason(payload, key, message, code):
    batch = PendingBatch()
    assert not batch.add(FakeRecord(payload, _offset=41, _partition=2, _topic="r", _key=key), NOW, clock=0.0)
    (letter,) = batch.dead_letters
    assert (letter.topic, letter.partition, letter.offset, letter.key, letter.payload) == ("r", 2, 41, key, payload)
    assert message in letter.error and letter.reason == code
    assert batch.readings == [] and batch.offsets == {("r", 2): 41}


def test_offsets_track_the_last_record_per_partition_and_commit_the_next_one():
    batch = PendingBatch()
    for partition, offset in [(0, 5), (1, 9), (0, 6), (1, 10), (0, 7)]:
        batch.add(FakeRecord(b"x", _offset=offset, _partition=partition), NOW, clock=0.0)
    assert commit_offsets(batch.offsets) == [("t", 0, 8), ("t", 1, 11)]


def test_batch_is_due_by_count_or_by_age():
    batch = PendingBatch()
    assert not batch.due(3, 0.5, clock=100.0)  # empty: never due
    batch.add(FakeRecord(b"x"), NOW, clock=100.0)
    assert not batch.due(3, 0.5, clock=100.4)
    assert batch.due(3, 0.5, clock=100.5)
    batch.add(FakeRecord(b"x", _offset=1), NOW, clock=100.1)
    batch.add(FakeRecord(b"x", _offset=2), NOW, clock=100.1)
    assert batch.due(3, 0.5, clock=100.1)
    batch.clear()
    assert len(batch) == 0 and batch.started_at is None and batch.offsets == {}


def test_dlq_headers_carry_reason_and_origin():
    batch = PendingBatch()
    batch.add(FakeRecord(b"{", _offset=3, _partition=1, _topic="sensor.readings"), NOW, clock=0.0)
    headers = dict(dlq_headers(batch.dead_letters[0]))
    assert headers["source.topic"] == b"sensor.readings" and headers["source.offset"] == b"3"
    assert headers["error"].startswith(b"not valid JSON") and headers["reason"] == b"json"


def test_backoff_doubles_up_to_a_ceiling():
    delays = Backoff(initial=0.2, maximum=1.0).delays()
    assert [next(delays) for _ in range(6)] == [0.2, 0.4, 0.8, 1.0, 1.0, 1.0]


class FlakyWriter:
    url = "postgresql://x@127.0.0.1:1/db"

    def __init__(self, failures: int):
        self.failures = failures
        self.attempts = 0

    def write(self, batch):
        self.attempts += 1
        if self.attempts <= self.failures:
            raise psycopg2.OperationalError("server closed the connection unexpectedly")
        return WriteResult(staged=len(batch.readings), inserted=len(batch.readings), dead_letters_new=0)


def test_write_retries_through_an_outage_then_succeeds():
    waits, retries = [], []
    writer = FlakyWriter(failures=3)
    result = write_with_retry(
        writer,
        PendingBatch(),
        wait=lambda s: waits.append(s) or True,
        backoff=Backoff(initial=0.1, maximum=0.3),
        on_retry=lambda n, e: retries.append(n),
    )
    assert result is not None and writer.attempts == 4
    assert waits == [0.1, 0.2, 0.3] and retries == [1, 2, 3]


def test_write_is_abandoned_when_asked_to_stop_during_an_outage():
    writer = FlakyWriter(failures=100)
    assert write_with_retry(writer, PendingBatch(), wait=lambda s: writer.attempts < 2) is None
    assert writer.attempts == 2


def test_non_transient_errors_are_not_retried():
    class Broken(FlakyWriter):
        def write(self, batch):
            raise psycopg2.ProgrammingError('relation "readings" does not exist')

    with pytest.raises(psycopg2.ProgrammingError):
        write_with_retry(Broken(0), PendingBatch(), wait=lambda s: True)


def test_counters_render_as_prometheus_metrics():
    from prometheus_client import CollectorRegistry, generate_latest

    counters = IngestCounters(
        consumed=10,
        written=7,
        duplicates=2,
        dead_letters_by_reason={"json": 1, "key_mismatch": 2},
        batches=3,
        last_commit_time=1700000000.0,
        lag={("sensor.readings", 4): 12},
    )
    registry = CollectorRegistry()
    registry.register(CountersCollector(counters))
    text = generate_latest(registry).decode()
    assert "powercast_ingest_consumed_total 10.0" in text
    assert "powercast_ingest_duplicates_total 2.0" in text
    assert 'powercast_ingest_dead_letters_total{reason="json"} 1.0' in text
    assert 'powercast_ingest_dead_letters_total{reason="key_mismatch"} 2.0' in text
    assert 'powercast_ingest_lag{partition="4",topic="sensor.readings"} 12.0' in text
    assert "powercast_ingest_last_commit_timestamp_seconds 1.7e+09" in text
    assert "consumed=10 written=7 duplicates=2 dead_letters=3 batches=3 lag=12" in counters.summary()


def test_options_reject_nonsense():
    with pytest.raises(ValueError):
        IngestOptions(batch_size=0)
    with pytest.raises(ValueError):
        IngestOptions(batch_max_s=0)
