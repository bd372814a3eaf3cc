"""Pure transform: consumed records → readings to write, dead letters, and the offsets they cover.

Nothing here talks to Kafka or PostgreSQL, so every rule is unit-testable with plain objects.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Protocol

from powercast.ingest.copy_binary import encode_readings
from powercast.stream.events import InvalidEvent, ReadingEvent, check_key, parse_event


class Record(Protocol):
    """What the transform needs from a consumed record (confluent_kafka.Message has these methods)."""

    def topic(self) -> str: ...
    def partition(self) -> int: ...
    def offset(self) -> int: ...
    def key(self) -> bytes | None: ...
    def value(self) -> bytes | None: ...


@dataclass(frozen=True)
class DeadLetter:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    payload: bytes | None
    error: str  # what is wrong, for people
    reason: str  # its code, one of powercast.stream.events.DEAD_LETTER_REASONS


@dataclass
class PendingBatch:
    """Records accumulated since the last write. `add` validates each record as it arrives."""

    readings: list[ReadingEvent] = field(default_factory=list)
    row_sources: list[Record] = field(default_factory=list)  # the record behind each reading, for DB-side rejects
    dead_letters: list[DeadLetter] = field(default_factory=list)
    offsets: dict[tuple[str, int], int] = field(default_factory=dict)  # (topic, partition) -> last offset seen
    days: set[date] = field(default_factory=set)  # UTC days of the rows: the partitions the write needs
    started_at: float | None = None  # monotonic time of the first record
    _copy_data: tuple[int, bytes] | None = field(default=None, init=False, repr=False)  # (readings encoded, stream)

    def __len__(self) -> int:
        return len(self.readings) + len(self.dead_letters)

    def add(self, record: Record, now: datetime, clock: float | None = None) -> bool:
        """Validate one record into a reading or a dead letter; True when it became a reading."""
        if self.started_at is None:
            self.started_at = time.monotonic() if clock is None else clock
        self.offsets[(record.topic(), record.partition())] = record.offset()
        try:
            event = parse_event(record.value(), now=now)
            check_key(event, record.key())
        except InvalidEvent as exc:
            self.dead_letters.append(dead_letter(record, str(exc), exc.reason))
            return False
        self.readings.append(event)
        self.row_sources.append(record)
        self.days.add(event.ts.date())  # parse_event gives UTC
        return True

    def copy_data(self) -> bytes:
        """The readings as one binary COPY stream (`powercast.ingest.copy_binary`), encoded again only when the
        readings changed since (a stream missing a reading would be committed as if it held it)."""
        if self._copy_data is None or self._copy_data[0] != len(self.readings):
            self._copy_data = (len(self.readings), encode_readings(self.readings))
        return self._copy_data[1]

    def due(self, max_records: int, max_age_s: float, clock: float | None = None) -> bool:
        """True when the batch is full or its oldest record has waited `max_age_s`."""
        if not len(self):
            return False
        if len(self) >= max_records:
            return True
        return (time.monotonic() if clock is None else clock) - self.started_at >= max_age_s

    def clear(self) -> None:
        """Forget the batch (used when partitions are lost: every record in it is redelivered from the last commit)."""
        self.readings.clear()
        self.row_sources.clear()
        self.dead_letters.clear()
        self.offsets.clear()
        self.days.clear()
        self.started_at = None


def dead_letter(record: Record, error: str, reason: str) -> DeadLetter:
    """A dead letter for `record`: `error` says what is wrong, `reason` is its code."""
    return DeadLetter(
        record.topic(), record.partition(), record.offset(), record.key(), record.value(), _clean(error), reason
    )


def commit_offsets(offsets: dict[tuple[str, int], int]) -> list[tuple[str, int, int]]:
    """Kafka commits the offset of the *next* record to read: last seen + 1."""
    return [(topic, partition, offset + 1) for (topic, partition), offset in sorted(offsets.items())]


def utc_now() -> datetime:
    return datetime.now(UTC)


def _clean(reason: str) -> str:
    return reason.replace("\x00", "\\0")
