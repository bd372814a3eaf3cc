"""Hypothesis strategies for what may arrive on the readings topic: valid events, mutated events, random JSON and
random bytes, each with a Kafka key that is usually the event's machine_id and sometimes another one or none."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import strategies as st

from powercast.stream.events import SENSOR_UNITS, encode_event

PAST = datetime(2020, 1, 1, tzinfo=UTC)
ZONES = [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]

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


def machine_ids(namespace: str = "M-"):
    """Ids that start with `namespace` (so rows written by one test stay apart from everyone else's)."""
    return st.from_regex(r"[A-Za-z0-9._:-]{0,12}", fullmatch=True).map(lambda s: namespace + s)


@st.composite
def events(draw, namespace: str = "M-") -> dict:
    sensor = draw(st.sampled_from([*SENSOR_UNITS, "humidity", ""]))
    unit = draw(st.sampled_from([SENSOR_UNITS.get(sensor, "W"), "C", "degC", "m/s2", "kW", "°C"]))
    ts = draw(timestamps)
    return {
        "schema_version": draw(st.sampled_from([1, 1, 1, 2, "1"])),
        "event_id": draw(st.one_of(st.uuids().map(str), st.just("not-a-uuid"))),
        "machine_id": draw(machine_ids(namespace)),
        "sensor": sensor,
        "value": draw(values),
        "unit": unit,
        "ts": draw(st.sampled_from([ts.isoformat(), ts.strftime("%Y-%m-%d %H:%M:%S%z"), str(ts.timestamp())])),
    }


@st.composite
def payloads(draw, namespace: str = "M-") -> bytes | None:
    kind = draw(
        st.sampled_from(["event", "event", "valid", "drop", "extra", "truncate", "flip", "bytes", "json", "none"])
    )
    if kind == "valid":
        ts = draw(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2026, 1, 1), timezones=st.just(UTC)))
        return encode_event(
            draw(machine_ids(namespace)),
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
    event = draw(events(namespace))
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


def machine_id_of(payload: bytes | None) -> bytes | None:
    """The machine_id a payload names, as a Kafka key (None when it names none)."""
    try:
        machine_id = json.loads(payload)["machine_id"]
    except (TypeError, ValueError, KeyError, IndexError):
        return None
    return machine_id.encode() if isinstance(machine_id, str) else None


@st.composite
def records(draw, namespace: str = "M-") -> tuple[bytes | None, bytes | None]:
    """(key, payload): the key is mostly the payload's own machine_id, sometimes another machine's or none."""
    payload = draw(payloads(namespace))
    own = machine_id_of(payload)
    key = draw(st.sampled_from(["own"] * 6 + ["other", "none"]))
    if key == "own" and own is not None:
        return own, payload
    return (None if key == "none" else (own or b"M-") + b"x"), payload
