"""The body of `POST /forecast` and its conversion to long readings (one row per reading).

Two shapes carry the same data:
- `readings`: a list of objects, one per reading, as the `readings` table and the reading events hold them;
- `columns`: the same fields as parallel arrays (one array per field, all of one length), which is smaller on
  the wire and quicker to parse for the hundreds of readings an hour of 10-second data holds.

Readings follow the rules of the Kafka reading events (`powercast.stream.events`, defined there once): a
`machine_id` of the event pattern, a known sensor, a finite JSON number as value (no boolean, no string, no NaN
or infinity), a unit (when sent) that is the sensor's, a time between `EARLIEST_TS` and now plus the events'
`MAX_FUTURE`; `rated_power_w`, when sent, is positive. The types state what they can; `check_readings` adds the
rules that span fields or rows and raises `InvalidReading` naming the field and the row.

Readings are validated as typed dicts rather than model instances (a model object per reading costs more than
the forecast itself), and timestamps become UTC nanoseconds through `datetime.timestamp`, exact to the
microsecond pydantic parses, instead of a per-object pandas conversion.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, NotRequired

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field, model_validator
from typing_extensions import TypedDict

from powercast.errors import PowercastError
from powercast.features.frame import ATTRIBUTES
from powercast.features.machine import MachineReadings
from powercast.stream.events import (
    EARLIEST_TS,
    MAX_FUTURE,
    FiniteValue,
    MachineId,
    Sensor,
    canonical_unit,
    ts_problem,
)

SENSOR_HELP = "power, temperature, vibration or pressure"
TS_HELP = (
    f"ISO 8601 with a zone (a time without one is read as UTC), from {EARLIEST_TS.year} "
    f"to at most {MAX_FUTURE.total_seconds() / 60:g} minutes from now"
)
UNIT_HELP = "optional; when sent, the sensor's unit: W, °C (or C, degC), m/s² (or m/s2), bar"

Unit = Annotated[str, Field(max_length=16, description=UNIT_HELP)]
MachineType = Annotated[str, Field(max_length=64)]
RatedPower = Annotated[float, Field(strict=True, gt=0, allow_inf_nan=False, description="rated power in W, > 0")]


class InvalidReading(PowercastError):
    """A reading that breaks a rule of the reading events; `loc` is where (as pydantic locates errors)."""

    def __init__(self, loc: tuple, reason: str):
        super().__init__(reason)
        self.loc = loc


class Reading(TypedDict):
    machine_id: MachineId
    sensor: Annotated[Sensor, Field(description=SENSOR_HELP)]
    ts: Annotated[datetime, Field(description=TS_HELP)]
    value: FiniteValue
    unit: NotRequired[Unit | None]
    machine_type: NotRequired[MachineType | None]
    rated_power_w: NotRequired[RatedPower | None]


class ReadingColumns(BaseModel):
    """Readings as parallel arrays: element i of every array belongs to reading i."""

    machine_id: list[MachineId]
    sensor: list[Sensor] = Field(description=SENSOR_HELP)
    ts: list[datetime] = Field(description=TS_HELP)
    value: list[FiniteValue]
    unit: list[Unit | None] | None = Field(None, description=UNIT_HELP)
    machine_type: list[MachineType | None] | None = None
    rated_power_w: list[RatedPower | None] | None = None

    @model_validator(mode="after")
    def _same_lengths(self) -> ReadingColumns:
        lengths = {name: len(values) for name, values in self if values is not None}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"columns must all have one length, got {lengths}")
        return self


class ForecastRequest(BaseModel):
    readings: list[Reading] | None = Field(
        None,
        description="Recent readings (long format) of one or more machines; at least the model's history "
        "window of power readings each",
    )
    columns: ReadingColumns | None = Field(
        None, description="The same readings as parallel arrays (instead of `readings`; quicker to parse)"
    )

    @model_validator(mode="after")
    def _one_shape(self) -> ForecastRequest:
        if self.readings is not None and self.columns is not None:
            raise ValueError("send either readings or columns, not both")
        return self


def reading_count(request: ForecastRequest) -> int:
    """How many readings the request carries."""
    if request.columns is not None:
        return len(request.columns.machine_id)
    return len(request.readings or [])


def check_readings(request: ForecastRequest, *, now: datetime | None = None) -> None:
    """The event rules the field types cannot state: every reading's time between `EARLIEST_TS` and `now` plus
    the allowed clock skew (`powercast.stream.events.ts_problem`), and a sent unit that is its sensor's.
    InvalidReading naming the field and row of the first reading found breaking one."""
    if request.columns is not None:
        columns = request.columns

        def loc(row: int, field: str) -> tuple:
            return ("body", "columns", field, row)

        _check_times(columns.ts, loc, now)
        if columns.unit is not None:
            _check_units(columns.sensor, columns.unit, loc)
        return

    rows = request.readings or []

    def loc(row: int, field: str) -> tuple:
        return ("body", "readings", row, field)

    _check_times([row["ts"] for row in rows], loc, now)
    if any("unit" in row for row in rows):
        _check_units([row["sensor"] for row in rows], [row.get("unit") for row in rows], loc)


def _check_times(stamps: list[datetime], loc: Callable[[int, str], tuple], now: datetime | None) -> None:
    """The rule holds for every time when it holds for the earliest and the latest: only those two are checked."""
    for row in _extremes(stamps):
        stamp = stamps[row] if stamps[row].tzinfo else stamps[row].replace(tzinfo=UTC)
        problem = ts_problem(stamp, now=now, earliest=EARLIEST_TS)
        if problem:
            raise InvalidReading(loc(row, "ts"), problem)


def _extremes(stamps: list[datetime]) -> list[int]:
    """The rows of the earliest and the latest of `stamps` (zone-less ones taken as UTC); none when empty."""
    if not stamps:
        return []
    try:  # all zoned or all zone-less: compared as they are
        rows = [stamps.index(min(stamps)), stamps.index(max(stamps))]
    except TypeError:  # both kinds: compared as seconds since the epoch
        seconds = utc_seconds(stamps)
        rows = [int(np.argmin(seconds)), int(np.argmax(seconds))]
    return list(dict.fromkeys(rows))


def _check_units(sensors: list[str], units: list[str | None], loc: Callable[[int, str], tuple]) -> None:
    for row, (sensor, unit) in enumerate(zip(sensors, units)):
        if unit is not None:
            try:
                canonical_unit(sensor, unit)
            except ValueError as exc:
                raise InvalidReading(loc(row, "unit"), str(exc)) from None


def readings_frame(request: ForecastRequest) -> pd.DataFrame:
    """Long readings (machine_id, sensor, ts as UTC timestamps, value, attributes when sent); empty when none."""
    if request.columns is not None:
        return _frame(request.columns.model_dump())
    rows = request.readings or []
    data = {name: [row[name] for row in rows] for name in ("machine_id", "sensor", "ts", "value")}
    for name in ATTRIBUTES:
        data[name] = [row.get(name) for row in rows]
    return _frame(data)


def _frame(data: dict[str, list | None]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "machine_id": data["machine_id"],
            "sensor": data["sensor"],
            "ts": utc_timestamps(data["ts"]),
            "value": np.asarray(data["value"], dtype=float),
        }
    )
    for name in ATTRIBUTES:
        values = data.get(name)
        if values is not None and any(v is not None for v in values):
            frame[name] = values
    return frame


def machine_readings(request: ForecastRequest) -> MachineReadings | None:
    """The readings as one machine's arrays when they all belong to one machine (the quick path of a forecast
    request); None when they hold several machines or none."""
    if request.columns is not None:
        data = {name: getattr(request.columns, name) for name in ("machine_id", "sensor", "ts", "value", *ATTRIBUTES)}
    else:
        rows = request.readings or []
        data = {name: [row[name] for row in rows] for name in ("machine_id", "sensor", "ts", "value")}
        data.update({name: [row.get(name) for row in rows] for name in ATTRIBUTES})
    machines = set(data["machine_id"])
    if len(machines) != 1:
        return None
    attributes = {
        name: values if values is not None and any(v is not None for v in values) else None
        for name, values in ((name, data[name]) for name in ATTRIBUTES)
    }
    return MachineReadings(
        machines.pop(),
        np.asarray(data["sensor"], dtype=object),
        utc_nanoseconds(data["ts"]),
        np.asarray(data["value"], dtype=float),
        **attributes,
    )


def utc_timestamps(stamps: list[datetime]) -> pd.DatetimeIndex:
    """datetime64[ns] UTC instants of `stamps` (zone-less ones taken as UTC), equal to `pd.to_datetime(utc=True)`."""
    return pd.DatetimeIndex(utc_nanoseconds(stamps).view("datetime64[ns]")).tz_localize("UTC")


def utc_nanoseconds(stamps: list[datetime]) -> np.ndarray:
    """Nanoseconds since the epoch of `stamps` (zone-less ones taken as UTC); they must lie within int64
    nanoseconds (1677-2262), which `check_readings` ensures for a request.

    `timestamp()` is exact to well under half a microsecond for any date within a century or two of 1970, so
    rounding recovers the microsecond pydantic parsed."""
    return np.round(utc_seconds(stamps) * 1e6).astype(np.int64) * 1000


def utc_seconds(stamps: list[datetime]) -> np.ndarray:
    """Seconds since the epoch (floats) of `stamps`, zone-less ones taken as UTC."""
    return np.fromiter(
        ((t if t.tzinfo else t.replace(tzinfo=UTC)).timestamp() for t in stamps),
        dtype=float,
        count=len(stamps),
    )
