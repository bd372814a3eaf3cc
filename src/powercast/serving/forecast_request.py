"""The body of `POST /forecast` and its conversion to long readings (one row per reading).

Two shapes carry the same data:
- `readings`: a list of objects, one per reading, as the `readings` table and the reading events hold them;
- `columns`: the same fields as parallel arrays (one array per field, all of one length), which is smaller on
  the wire and quicker to parse for the hundreds of readings an hour of 10-second data holds.

Readings are validated as typed dicts rather than model instances (a model object per reading costs more than
the forecast itself), and timestamps become UTC nanoseconds through `datetime.timestamp`, exact to the
microsecond pydantic parses, instead of a per-object pandas conversion.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, NotRequired

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field, model_validator
from typing_extensions import TypedDict

from powercast.features.frame import ATTRIBUTES
from powercast.features.machine import MachineReadings

SENSOR_HELP = "power, temperature, vibration or pressure"
TS_HELP = "ISO 8601 with a zone (a time without one is read as UTC)"


class Reading(TypedDict):
    machine_id: str
    sensor: Annotated[str, Field(description=SENSOR_HELP)]
    ts: Annotated[datetime, Field(description=TS_HELP)]
    value: float
    machine_type: NotRequired[str | None]
    rated_power_w: NotRequired[float | None]


class ReadingColumns(BaseModel):
    """Readings as parallel arrays: element i of every array belongs to reading i."""

    machine_id: list[str]
    sensor: list[str] = Field(description=SENSOR_HELP)
    ts: list[datetime] = Field(description=TS_HELP)
    value: list[float]
    machine_type: list[str | None] | None = None
    rated_power_w: list[float | None] | None = None

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
    """Nanoseconds since the epoch of `stamps` (zone-less ones taken as UTC).

    `timestamp()` is exact to well under half a microsecond for any date within a century or two of 1970, so
    rounding recovers the microsecond pydantic parsed."""
    seconds = np.fromiter(
        ((t if t.tzinfo else t.replace(tzinfo=UTC)).timestamp() for t in stamps),
        dtype=float,
        count=len(stamps),
    )
    return np.round(seconds * 1e6).astype(np.int64) * 1000
