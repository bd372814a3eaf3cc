"""Property: whatever arrives on the topic (random bytes, mutated events, valid events), every record ends as
exactly one of a valid row or a dead letter, and the ingestor keeps consuming afterwards."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from powercast.stream.events import InvalidEvent, check_key, encode_event, parse_event
from tests.integration.ingest_support import (
    fresh_topics,
    machine_prefix,
    produce,
    query,
    row_count,
    running_ingestor,
    wait_until,
)
from tests.strategies import records

NAMESPACE = machine_prefix()  # valid rows from this module stay apart from everyone else's


PRODUCED = {"records": 0, "rejected": 0}  # what the property test sent through the module's ingestor


@pytest.fixture(scope="module")
def live_ingestor(services):
    bootstrap, url = services.bootstrap_servers, services.app_database_url
    topic, dlq = fresh_topics(bootstrap, partitions=2)
    with running_ingestor(bootstrap, url, topic, dlq, batch_max_s=0.05) as ingestor:
        yield ingestor, topic, PRODUCED


def _oracle(key: bytes | None, payload: bytes | None):
    try:
        event = parse_event(payload)
        check_key(event, key)
        return event
    except InvalidEvent:
        return None


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(batch=st.lists(records(NAMESPACE), min_size=1, max_size=120))
def test_every_record_becomes_a_row_or_a_dead_letter(services, live_ingestor, batch):
    ingestor, topic, produced = live_ingestor
    bootstrap, url = services.bootstrap_servers, services.app_database_url
    placed = produce(bootstrap, topic, batch)
    produced["records"] += len(batch)
    produced["rejected"] += sum(_oracle(*record) is None for record in batch)
    last = {}
    for partition, offset in placed:
        last[partition] = max(offset, last.get(partition, -1))
    wait_until(
        lambda: all((ingestor.committed_offset(topic, p) or -1) > o for p, o in last.items()),
        timeout=30,
        every=0.02,
        what="the batch's offsets to be committed",
    )

    dead = {(p, o) for p, o in query(url, 'SELECT "partition", "offset" FROM dead_letters WHERE topic = %s', (topic,))}
    for (key, payload), where in zip(batch, placed):
        event = _oracle(key, payload)
        if event is None:
            assert where in dead, f"rejected payload {payload!r} has no dead letter"
            continue
        assert where not in dead, f"valid payload {payload!r} was dead-lettered"
        rows = query(
            url,
            "SELECT count(*) FROM readings WHERE machine_id = %s AND sensor = %s AND ts = %s",
            (event.machine_id, event.sensor, event.ts),
        )
        assert rows == [(1,)], f"valid payload {payload!r} has no row"


def test_ingestor_still_consumes_after_random_input(services, live_ingestor):
    ingestor, topic, produced = live_ingestor
    prefix = machine_prefix()
    ts = datetime.now(UTC) - timedelta(minutes=1)
    key = f"{prefix}1".encode()
    produce(
        services.bootstrap_servers, topic, [(key, encode_event(f"{prefix}1", "power", 1.5, ts, event_id=uuid.uuid4()))]
    )
    wait_until(lambda: row_count(services.app_database_url, prefix) == 1, what="a valid event after the random ones")
    assert produced["records"] > 0, "the property test ran first and sent records"
    assert ingestor.counters.consumed == produced["records"] + 1
    assert ingestor.counters.dead_letters == produced["rejected"]
