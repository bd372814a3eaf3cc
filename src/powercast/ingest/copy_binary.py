"""Readings in PostgreSQL's binary COPY format, for `COPY ... FROM STDIN (FORMAT binary)`.

The server stores binary values as they come, instead of parsing a timestamp, a float and a uuid out of text for
every row: the ingestor's COPY costs PostgreSQL about a fifth less. The layout (a signature, then per row the
field count and each field as a length and its bytes, then -1) is documented with the COPY command; the columns
are `COPY_COLUMNS`, of the types `readings` declares. Text fields are UTF-8: the connection that sends the stream
must use client_encoding UTF8 (the writer sets it), or a database in another encoding would store other characters.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from powercast.stream.events import ReadingEvent

# Of the types text, text, timestamptz, float8, text, uuid.
COPY_COLUMNS = ("machine_id", "sensor", "ts", "value", "unit", "event_id")
HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)  # signature, flags, header extension length
TRAILER = struct.pack(">h", -1)

_POSTGRES_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # timestamptz is microseconds since this instant
_MICROSECOND = timedelta(microseconds=1)
_ROW_STRUCTS: dict[tuple[int, int, int], struct.Struct] = {}  # by the byte lengths of the three text fields


def encode_readings(readings: Iterable[ReadingEvent]) -> bytes:
    """The whole COPY stream for `readings`: header, one tuple per reading, trailer."""
    parts = [HEADER]
    micros: dict[datetime, int] = {}  # readings come in steps that share a time: each is converted once
    for reading in readings:
        machine_id, sensor, unit = reading.machine_id.encode(), reading.sensor.encode(), reading.unit.encode()
        ts = micros.get(reading.ts)
        if ts is None:
            ts = micros[reading.ts] = (reading.ts - _POSTGRES_EPOCH) // _MICROSECOND
        m, s, u = len(machine_id), len(sensor), len(unit)
        row = _ROW_STRUCTS.get((m, s, u)) or _row_struct((m, s, u))
        parts.append(
            row.pack(6, m, machine_id, s, sensor, 8, ts, 8, reading.value, u, unit, 16, reading.event_id.bytes)
        )
    parts.append(TRAILER)
    return b"".join(parts)


def _row_struct(lengths: tuple[int, int, int]) -> struct.Struct:
    machine_id, sensor, unit = lengths
    row = struct.Struct(f">hi{machine_id}si{sensor}siqidi{unit}si16s")
    _ROW_STRUCTS[lengths] = row
    return row
