"""Property: whatever arrives on the topic (random bytes, mutated events, valid events), every record ends as
exactly one of a valid row or a dead letter, and the ingestor keeps consuming afterwards."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from powercast.stream.events import SENSOR_UNITS, InvalidEvent, encode_event, parse_event
from tests.integration.ingest_support import (
    fresh_topics,
    machine_prefix,
    produce,
    query,
    row_count,
    running_ingestor,
    wait_until,
)

PAST = datetime(2020, 1, 1, tzinfo=UTC)
ZONES = [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]

NAMESPACE = machine_prefix()  # valid rows from this module stay apart from everyone else's
machine_ids = st.from_regex(r"[A-Za-z0-9._:-]{0,12}", fullmatch=True).map(lambda s: NAMESPACE + s)
timestamps = st.one_of(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2026, 1, 1), timezones=st.sampled_from(ZONES)),
    st.just(datetime(2100, 1, 1, tzinfo=UTC)),  # far in the future
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2026, 1, 1)),  # no zone
)
values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**6), 10**6),
    st.text(max_size=5),
    st.none(),
    st.booleans(),
)


@st.composite
def events(draw) -> dict:
    sensor = draw(st.sampled_from([*SENSOR_UNITS, "humidity", ""]))
    unit = draw(st.sampled_from([SENSOR_UNITS.get(sensor, "W"), "C", "degC", "m/s2", "kW", "°C"]))
    ts = draw(timestamps)
    return {
        "schema_version": draw(st.sampled_from([1, 1, 1, 2, "1"])),
        "event_id": draw(st.one_of(st.uuids().map(str), st.just("not-a-uuid"))),
        "machine_id": draw(machine_ids),
        "sensor": sensor,
        "value": draw(values),
        "unit": unit,
        "ts": draw(st.sampled_from([ts.isoformat(), ts.strftime("%Y-%m-%d %H:%M:%S%z"), str(ts.timestamp())])),
    }


@st.composite
def payloads(draw) -> bytes | None:
    kind = draw(
        st.sampled_from(["event", "event", "valid", "drop", "extra", "truncate", "flip", "bytes", "json", "none"])
    )
    if kind == "valid":
        ts = draw(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2026, 1, 1), timezones=st.just(UTC)))
        return encode_event(
            draw(machine_ids),
            draw(st.sampled_from(list(SENSOR_UNITS))),
            draw(st.floats(allow_nan=False, allow_infinity=False)),
            ts,
        )
    if kind == "bytes":
        return draw(st.binary(max_size=60))
    if kind == "json":
        return json.dumps(
            draw(
                st.recursive(
                    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                    max_leaves=6,
                )
            )
        ).encode()
    if kind == "none":
        return None
    event = draw(events())
    if kind == "drop":
        event.pop(draw(st.sampled_from(sorted(event))))
    elif kind == "extra":
        event[draw(st.text(min_size=1, max_size=6))] = draw(values)
    raw = json.dumps(event, ensure_ascii=draw(st.booleans())).encode()
    if kind == "truncate":
        raw = raw[: draw(st.integers(0, max(0, len(raw) - 1)))]
    elif kind == "flip" and raw:
        at = draw(st.integers(0, len(raw) - 1))
        raw = raw[:at] + bytes([draw(st.integers(0, 255))]) + raw[at + 1 :]
    return raw


PRODUCED = {"records": 0, "rejected": 0}  # what the property test sent through the module's ingestor


@pytest.fixture(scope="module")
def live_ingestor(services):
    bootstrap, url = services.bootstrap_servers, services.app_database_url
    topic, dlq = fresh_topics(bootstrap, partitions=2)
    with running_ingestor(bootstrap, url, topic, dlq, batch_max_s=0.05) as ingestor:
        yield ingestor, topic, PRODUCED


def _oracle(payload: bytes | None):
    try:
        return parse_event(payload)
    except InvalidEvent:
        return None


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(batch=st.lists(payloads(), min_size=1, max_size=120))
def test_every_record_becomes_a_row_or_a_dead_letter(services, live_ingestor, batch):
    ingestor, topic, produced = live_ingestor
    bootstrap, url = services.bootstrap_servers, services.app_database_url
    placed = produce(bootstrap, topic, [(b"k", p) for p in batch])
    produced["records"] += len(batch)
    produced["rejected"] += sum(_oracle(p) is None for p in batch)
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
    for payload, where in zip(batch, placed):
        event = _oracle(payload)
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
    produce(
        services.bootstrap_servers, topic, [(b"k", encode_event(f"{prefix}1", "power", 1.5, ts, event_id=uuid.uuid4()))]
    )
    wait_until(lambda: row_count(services.app_database_url, prefix) == 1, what="a valid event after the random ones")
    assert produced["records"] > 0, "the property test ran first and sent records"
    assert ingestor.counters.consumed == produced["records"] + 1
    assert ingestor.counters.dead_letters == produced["rejected"]
