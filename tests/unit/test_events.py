"""The event contract: valid events parse, every kind of bad input is rejected with a reason."""

import json
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from powercast.stream.events import (
    DEAD_LETTER_REASONS,
    MAX_EVENT_BYTES,
    InvalidEvent,
    check_key,
    encode_event,
    format_ts,
    parse_event,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _event(**changes):
    event = {
        "schema_version": 1,
        "event_id": str(uuid.uuid4()),
        "machine_id": "M-001",
        "sensor": "power",
        "value": 1234.5,
        "unit": "W",
        "ts": "2026-11-25T12:00:10Z",
    }
    event.update(changes)
    return json.dumps({k: v for k, v in event.items() if v is not ...})


def test_encoded_event_round_trips():
    ts = datetime(2026, 11, 25, 11, 59, 50, tzinfo=UTC)
    event = parse_event(encode_event("M-007", "temperature", 61.25, ts), now=NOW)
    assert (event.machine_id, event.sensor, event.value, event.unit, event.ts) == (
        "M-007",
        "temperature",
        61.25,
        "°C",
        ts,
    )


@pytest.mark.parametrize("alias,canonical", [("C", "°C"), ("degC", "°C")])
def test_ascii_unit_aliases_are_canonicalised(alias, canonical):
    assert parse_event(_event(sensor="temperature", unit=alias), now=NOW).unit == canonical


def test_vibration_alias():
    assert parse_event(_event(sensor="vibration", unit="m/s2"), now=NOW).unit == "m/s²"


def test_integer_values_are_accepted():
    assert parse_event(_event(value=1200), now=NOW).value == 1200.0


@pytest.mark.parametrize(
    "raw,message,code",
    [
        (None, "empty record", "empty"),
        (b"{not json", "not valid JSON", "json"),
        (b"", "not valid JSON", "json"),
        (b" " * (MAX_EVENT_BYTES + 1), f"at most {MAX_EVENT_BYTES}", "too_large"),
        (_event(schema_version=2), "schema_version", "schema"),
        (_event(event_id="nope"), "event_id", "schema"),
        (_event(machine_id=...), "machine_id: Field required", "schema"),
        (_event(machine_id=""), "machine_id", "schema"),
        (_event(machine_id="M 1"), "machine_id", "schema"),
        (_event(machine_id="M" * 65), "machine_id", "schema"),
        (_event(sensor="humidity"), "sensor", "schema"),
        (_event(unit="kW"), "does not match sensor", "schema"),
        (_event(value="12.5"), "value", "schema"),
        (_event(value=True), "value", "schema"),
        (_event(value=None), "value", "schema"),
        (_event(ts="2026-11-25T12:00:10"), "ts", "schema"),
        (_event(ts="yesterday"), "ts", "schema"),
        (_event(ts="2026-11-26T12:00:00Z"), "in the future", "future"),
        (_event(ts="1999-12-31T23:59:59Z"), "before 2000-01-01", "range"),
        (b"[1, 2, 3]", "event", "schema"),
    ],
)
def test_bad_events_are_rejected_with_a_message_and_a_reason_code(raw, message, code):
    with pytest.raises(InvalidEvent, match=message) as rejected:
        parse_event(raw, now=NOW)
    assert rejected.value.reason == code and code in DEAD_LETTER_REASONS


@pytest.mark.parametrize("key", [None, b"M-002", b"m-001", b"M-001 "])
def test_a_kafka_key_other_than_the_machine_id_is_refused(key):
    event = parse_event(_event(), now=NOW)
    check_key(event, b"M-001")  # the machine's own id passes
    with pytest.raises(InvalidEvent, match="is not the event's machine_id") as rejected:
        check_key(event, key)
    assert rejected.value.reason == "key_mismatch"


def test_the_database_knows_every_reason_code():
    from powercast.db.migrate import default_sql_dir

    migration = (default_sql_dir() / "0014_dead_letter_reasons.sql").read_text()
    allowed = re.search(r"CHECK \(reason IN \((.*?)\)\)", migration, re.S).group(1)
    assert sorted(code.strip(" '\n") for code in allowed.split(",")) == sorted(DEAD_LETTER_REASONS)


def test_non_finite_values_are_rejected():
    raw = _event().replace("1234.5", "NaN")
    with pytest.raises(InvalidEvent):
        parse_event(raw, now=NOW)
    with pytest.raises(ValueError, match="finite"):
        encode_event("M-1", "power", float("inf"), NOW)


def test_timestamps_with_offsets_are_normalised():
    event = parse_event(_event(ts="2026-11-25T13:00:10+01:00"), now=NOW)
    assert event.ts == datetime(2026, 11, 25, 12, 0, 10, tzinfo=UTC)


def test_format_ts_keeps_milliseconds():
    assert format_ts(NOW + timedelta(milliseconds=250)) == "2026-11-25T12:00:00.250Z"
    assert format_ts(NOW) == "2026-11-25T12:00:00Z"
