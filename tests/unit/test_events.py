"""The event contract: valid events parse, every kind of bad input is rejected with a reason."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from powercast.stream.events import InvalidEvent, encode_event, format_ts, parse_event

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
    "raw,reason",
    [
        (b"{not json", "not valid JSON"),
        (b"", "not valid JSON"),
        (_event(schema_version=2), "schema_version"),
        (_event(event_id="nope"), "event_id"),
        (_event(machine_id=...), "machine_id: Field required"),
        (_event(machine_id=""), "machine_id"),
        (_event(sensor="humidity"), "sensor"),
        (_event(unit="kW"), "does not match sensor"),
        (_event(value="12.5"), "value"),
        (_event(value=True), "value"),
        (_event(value=None), "value"),
        (_event(ts="2026-11-25T12:00:10"), "ts"),
        (_event(ts="yesterday"), "ts"),
        (_event(ts="2026-11-26T12:00:00Z"), "in the future"),
        (b"[1, 2, 3]", "event"),
    ],
)
def test_bad_events_are_rejected_with_a_reason(raw, reason):
    with pytest.raises(InvalidEvent, match=reason):
        parse_event(raw, now=NOW)


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
