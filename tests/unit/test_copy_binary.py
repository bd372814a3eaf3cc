"""The binary COPY stream of readings, read back field by field as PostgreSQL reads it."""

from __future__ import annotations

import struct
import uuid
from datetime import UTC, datetime, timedelta, timezone

from powercast.ingest.copy_binary import COPY_COLUMNS, encode_readings
from powercast.stream.events import ReadingEvent


def _decode(stream: bytes) -> list[list[bytes]]:
    assert stream[:11] == b"PGCOPY\n\xff\r\n\x00" and struct.unpack(">ii", stream[11:19]) == (0, 0)
    rows, at = [], 19
    while True:
        (fields,) = struct.unpack_from(">h", stream, at)
        at += 2
        if fields == -1:
            assert at == len(stream)
            return rows
        row = []
        for _ in range(fields):
            (length,) = struct.unpack_from(">i", stream, at)
            row.append(stream[at + 4 : at + 4 + length])
            at += 4 + length
        rows.append(row)


def test_each_reading_is_one_tuple_of_the_copy_columns():
    first = ReadingEvent(uuid.UUID(int=255), "M-1", "vibration", 1e-7, "m/s²", datetime(2000, 1, 1, 0, 0, 1, 5, UTC))
    later = first._replace(machine_id="press-12.b", sensor="power", value=-1234.5, unit="W")
    rows = _decode(encode_readings([first, later]))
    assert len(rows) == 2 and all(len(row) == len(COPY_COLUMNS) == 6 for row in rows)
    machine_id, sensor, ts, value, unit, event_id = rows[0]
    assert (machine_id, sensor, unit) == (b"M-1", b"vibration", "m/s²".encode())
    assert struct.unpack(">q", ts) == (1_000_005,)  # microseconds since 2000-01-01 UTC
    assert struct.unpack(">d", value) == (1e-7,)
    assert event_id == uuid.UUID(int=255).bytes
    assert (rows[1][0], rows[1][1], struct.unpack(">d", rows[1][3]), rows[1][4]) == (
        b"press-12.b",
        b"power",
        (-1234.5,),
        b"W",
    )


def test_the_time_is_the_same_instant_whatever_its_offset():
    utc = datetime(2026, 11, 25, 12, 0, 10, 250_000, UTC)
    reading = ReadingEvent(uuid.uuid4(), "M-1", "power", 1.0, "W", utc)
    shifted = reading._replace(ts=utc.astimezone(timezone(timedelta(hours=1))))
    (a,), (b,) = ([row[2] for row in _decode(encode_readings([r]))] for r in (reading, shifted))
    expected = (utc - datetime(2000, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    assert struct.unpack(">q", a) == struct.unpack(">q", b) == (expected,)


def test_no_readings_is_an_empty_stream():
    assert _decode(encode_readings([])) == []
