"""The reading event: one JSON object per sensor per interval, keyed by machine_id.

`parse_event` is the single gate every consumed record goes through; anything it rejects becomes a
dead letter carrying the `InvalidEvent` reason. `encode_event` is what producers publish. The rules a reading
follows (`MachineId`, `FiniteValue`, `canonical_unit`, `ts_problem`) are defined here once; the forecasting
service applies the same ones to the readings of a forecast request.
"""

from __future__ import annotations

import json
import math
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal, NamedTuple

from pydantic import AwareDatetime, Field, TypeAdapter, ValidationError
from typing_extensions import TypedDict

SCHEMA_VERSION = 1
SENSOR_UNITS: dict[str, str] = {"temperature": "°C", "vibration": "m/s²", "pressure": "bar", "power": "W"}
UNIT_ALIASES: dict[str, str] = {"C": "°C", "degC": "°C", "m/s2": "m/s²"}
SENSORS = tuple(SENSOR_UNITS)
MAX_FUTURE = timedelta(minutes=5)
EARLIEST_TS = datetime(2000, 1, 1, tzinfo=UTC)  # the earliest reading time a caller may ask `ts_problem` to enforce
MACHINE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
MACHINE_ID_MAX_LENGTH = 64
MAX_EVENT_BYTES = 16 * 1024  # a reading is about 200 bytes; anything this large is not one (and is not parsed)

# The reason code of each dead letter (dead_letters.reason, the ingestor's metrics label); the message says more.
REASON_EMPTY = "empty"  # a record without a value
REASON_TOO_LARGE = "too_large"  # over MAX_EVENT_BYTES
REASON_JSON = "json"  # not JSON
REASON_SCHEMA = "schema"  # a field missing, of the wrong type, or outside its rules (sensor, unit, pattern)
REASON_RANGE = "range"  # a timestamp before EARLIEST_TS
REASON_FUTURE = "future"  # a timestamp further ahead than the allowance
REASON_KEY_MISMATCH = "key_mismatch"  # the Kafka key is not the event's machine_id
REASON_DATABASE = "database"  # valid, but PostgreSQL refused the row
DEAD_LETTER_REASONS = (
    REASON_EMPTY,
    REASON_TOO_LARGE,
    REASON_JSON,
    REASON_SCHEMA,
    REASON_RANGE,
    REASON_FUTURE,
    REASON_KEY_MISMATCH,
    REASON_DATABASE,
)

Sensor = Literal["temperature", "vibration", "pressure", "power"]
MachineId = Annotated[str, Field(min_length=1, max_length=MACHINE_ID_MAX_LENGTH, pattern=MACHINE_ID_PATTERN)]
FiniteValue = Annotated[float, Field(strict=True, allow_inf_nan=False)]  # a JSON number: no bool, string, NaN or inf


class InvalidEvent(ValueError):
    """A record that cannot become a reading; the message is the dead letter's text, `reason` its code (one of
    DEAD_LETTER_REASONS)."""

    def __init__(self, message: str, reason: str = REASON_SCHEMA):
        super().__init__(message)
        self.reason = reason


class _EventFields(TypedDict):
    """The JSON object of a reading event as the types check it (other keys are ignored)."""

    schema_version: Literal[1]
    event_id: uuid.UUID
    machine_id: MachineId
    sensor: Sensor
    value: FiniteValue
    unit: str
    ts: AwareDatetime


# A typed dict rather than a model: a model instance and its validator hook cost more than the checks themselves
# at the ingestor's rate (the forecasting service reads its readings the same way).
_EVENT_FIELDS = TypeAdapter(_EventFields)


class ReadingEvent(NamedTuple):
    """A valid reading: its unit canonical (`canonical_unit`), its time in UTC."""

    event_id: uuid.UUID
    machine_id: str
    sensor: str
    value: float
    unit: str
    ts: datetime


def canonical_unit(sensor: str, unit: str) -> str:
    """The canonical spelling of `unit` (an ASCII alias becomes its symbol); ValueError when it is not the unit
    `sensor` reports in."""
    canonical = UNIT_ALIASES.get(unit, unit)
    expected = SENSOR_UNITS[sensor]
    if canonical != expected:
        raise ValueError(f"unit {unit!r} does not match sensor {sensor!r} (expected {expected!r})")
    return canonical


def ts_problem(
    ts: datetime, *, now: datetime | None = None, max_future: timedelta = MAX_FUTURE, earliest: datetime | None = None
) -> str | None:
    """Why `ts` (zone-aware) cannot be a reading's time: more than `max_future` after `now` (a gateway clock
    running ahead), or before `earliest` when one is given. None when it can."""
    if ts > (now or datetime.now(UTC)) + max_future:
        return f"ts {ts.isoformat()} is more than {max_future} in the future"
    if earliest is not None and ts < earliest:
        return f"ts {ts.isoformat()} is before {earliest.date().isoformat()}"
    return None


def _reason(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(p) for p in err["loc"]) or "event"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def parse_event(
    raw: bytes | str | None, *, now: datetime | None = None, max_future: timedelta = MAX_FUTURE
) -> ReadingEvent:
    """Validate one raw record. Raises InvalidEvent with a human-readable message and a reason code."""
    if raw is None:
        raise InvalidEvent("empty record (no value)", REASON_EMPTY)
    if len(raw) > MAX_EVENT_BYTES:
        raise InvalidEvent(f"record of {len(raw)} bytes, a reading is at most {MAX_EVENT_BYTES}", REASON_TOO_LARGE)
    try:
        fields = _EVENT_FIELDS.validate_json(raw)
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            raise InvalidEvent(f"not valid JSON: {exc.errors()[0]['msg']}", REASON_JSON) from None
        raise InvalidEvent(_reason(exc), REASON_SCHEMA) from None
    sensor = fields["sensor"]
    try:
        unit = canonical_unit(sensor, fields["unit"])
    except ValueError as exc:
        raise InvalidEvent(f"unit: {exc}", REASON_SCHEMA) from None
    ts = fields["ts"].astimezone(UTC)  # also makes the comparisons below and the ingestor's day and COPY cheap
    problem = ts_problem(ts, now=now, max_future=max_future, earliest=EARLIEST_TS)
    if problem:
        raise InvalidEvent(problem, REASON_RANGE if ts < EARLIEST_TS else REASON_FUTURE)
    return ReadingEvent(fields["event_id"], fields["machine_id"], sensor, fields["value"], unit, ts)


def check_key(event: ReadingEvent, key: bytes | None) -> None:
    """A Kafka record's key must be its event's machine_id (the partitioner keeps a machine's readings in order
    by it); InvalidEvent otherwise."""
    if key != event.machine_id.encode():
        shown = "no key" if key is None else f"key {key[:80]!r}"
        raise InvalidEvent(f"{shown} is not the event's machine_id {event.machine_id!r}", REASON_KEY_MISMATCH)


def format_ts(ts: datetime) -> str:
    """ISO 8601 in UTC with a Z, millisecond precision when needed."""
    ts = ts.astimezone(UTC)
    if ts.microsecond:
        return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def encode_event(
    machine_id: str, sensor: str, value: float, ts: datetime, *, event_id: uuid.UUID | None = None
) -> bytes:
    """The UTF-8 JSON a producer publishes for one reading."""
    if sensor not in SENSOR_UNITS:
        raise ValueError(f"unknown sensor {sensor!r}; expected one of {', '.join(SENSORS)}")
    if not math.isfinite(value):
        raise ValueError(f"value must be finite, got {value!r}")
    return json.dumps(
        {
            "schema_version": SCHEMA_VERSION,
            "event_id": str(event_id or uuid.uuid4()),
            "machine_id": machine_id,
            "sensor": sensor,
            "value": value,
            "unit": SENSOR_UNITS[sensor],
            "ts": format_ts(ts),
        },
        ensure_ascii=False,
    ).encode()
