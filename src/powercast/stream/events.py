"""The reading event: one JSON object per sensor per interval, keyed by machine_id.

`parse_event` is the single gate every consumed record goes through; anything it rejects becomes a
dead letter carrying the `InvalidEvent` reason. `encode_event` is what producers publish.
"""

from __future__ import annotations

import json
import math
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

SCHEMA_VERSION = 1
SENSOR_UNITS: dict[str, str] = {"temperature": "°C", "vibration": "m/s²", "pressure": "bar", "power": "W"}
UNIT_ALIASES: dict[str, str] = {"C": "°C", "degC": "°C", "m/s2": "m/s²"}
SENSORS = tuple(SENSOR_UNITS)
MAX_FUTURE = timedelta(minutes=5)

Sensor = Literal["temperature", "vibration", "pressure", "power"]


class InvalidEvent(ValueError):
    """A record that cannot become a reading; the message is the dead-letter reason."""


class ReadingEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    schema_version: Literal[1]
    event_id: uuid.UUID
    machine_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]
    sensor: Sensor
    value: Annotated[float, Field(strict=True, allow_inf_nan=False)]
    unit: str
    ts: AwareDatetime

    @model_validator(mode="after")
    def _canonical_unit(self) -> ReadingEvent:
        unit = UNIT_ALIASES.get(self.unit, self.unit)
        expected = SENSOR_UNITS[self.sensor]
        if unit != expected:
            raise ValueError(f"unit {self.unit!r} does not match sensor {self.sensor!r} (expected {expected!r})")
        if unit != self.unit:
            object.__setattr__(self, "unit", unit)
        return self


def _reason(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(p) for p in err["loc"]) or "event"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def parse_event(raw: bytes | str, *, now: datetime | None = None, max_future: timedelta = MAX_FUTURE) -> ReadingEvent:
    """Validate one raw record. Raises InvalidEvent with a human-readable reason."""
    if raw is None:
        raise InvalidEvent("empty record (no value)")
    try:
        event = ReadingEvent.model_validate_json(raw)
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            raise InvalidEvent(f"not valid JSON: {exc.errors()[0]['msg']}") from None
        raise InvalidEvent(_reason(exc)) from None
    limit = (now or datetime.now(UTC)) + max_future
    if event.ts > limit:
        raise InvalidEvent(f"ts {event.ts.isoformat()} is more than {max_future} in the future")
    return event


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
