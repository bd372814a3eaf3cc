"""Writes one batch to PostgreSQL in one transaction: COPY straight into `readings`, or, when that meets a row
already stored, COPY into a staging table and an idempotent insert. Both COPYs send the binary format
(`powercast.ingest.copy_binary`).

`readings` has one row per (machine_id, sensor, ts). A batch of new readings (the usual case) is COPYed into it
directly: PostgreSQL does the work once. A replayed batch, or one holding the same reading twice, makes that COPY
fail on the primary key; it is rolled back and the batch goes through the staging table, where
`INSERT ... ON CONFLICT DO NOTHING` skips what is stored and counts it as duplicates. After such a batch the
writer stays on the staging path until a batch comes through it without duplicates (a replay covers several
batches in a row), so a replay does not pay for a failed COPY each time. Dead letters go to `dead_letters` in the
same transaction, keyed by (topic, partition, offset) so replays stay idempotent too.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg2
from psycopg2.extras import execute_values

from powercast.db.connection import connect, redact
from powercast.db.partitions import PartitionUpkeep, create_partitions, maintain_partitions
from powercast.errors import PowercastError
from powercast.ingest.batch import DeadLetter, PendingBatch, dead_letter
from powercast.ingest.copy_binary import COPY_COLUMNS
from powercast.names import DEAD_LETTERS_TABLE, READINGS_TABLE
from powercast.stream.events import REASON_DATABASE, ReadingEvent

log = logging.getLogger(__name__)

STAGE_TABLE = "readings_stage"
_COLUMNS = ", ".join(COPY_COLUMNS)
_CREATE_STAGE = f"""CREATE TEMP TABLE IF NOT EXISTS {STAGE_TABLE} (
    machine_id text, sensor text, ts timestamptz, value double precision, unit text, event_id uuid
) ON COMMIT DELETE ROWS"""
_COPY = f"COPY {STAGE_TABLE} ({_COLUMNS}) FROM STDIN (FORMAT binary)"
_COPY_DIRECT = f"COPY {READINGS_TABLE} ({_COLUMNS}) FROM STDIN (FORMAT binary)"
_INSERT = (
    f"INSERT INTO {READINGS_TABLE} ({_COLUMNS}) SELECT {_COLUMNS} FROM {STAGE_TABLE} "  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
    "ON CONFLICT (machine_id, sensor, ts) DO NOTHING"
)
_INSERT_ONE = (
    f"INSERT INTO {READINGS_TABLE} ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s) "  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
    "ON CONFLICT (machine_id, sensor, ts) DO NOTHING"
)
_INSERT_DEAD = (
    f'INSERT INTO {DEAD_LETTERS_TABLE} (topic, "partition", "offset", key, payload, error, reason) VALUES %s '  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
    'ON CONFLICT (topic, "partition", "offset") DO NOTHING'
)

# Errors that mean "the server or the connection is unavailable": retry the same batch later.
TRANSIENT_ERRORS = (psycopg2.OperationalError, psycopg2.InterfaceError, PowercastError)
# Errors that mean "a value in this batch is unacceptable": find the row and dead-letter it.
REFUSED_ROW_ERRORS = (psycopg2.DataError, psycopg2.IntegrityError)


@dataclass(frozen=True)
class WriteResult:
    staged: int
    inserted: int
    dead_letters_new: int
    rejected: list[DeadLetter] = field(default_factory=list)  # rows PostgreSQL refused, now dead letters

    @property
    def duplicates(self) -> int:
        return self.staged - self.inserted - len(self.rejected)


class BatchWriter:
    """Owns one connection (reopened after failures) and writes batches through it."""

    def __init__(self, url: str, *, connect_timeout: int = 5):
        self.url = url
        self.connect_timeout = connect_timeout
        self._conn = None
        self._days_ready: set = set()  # UTC days known to have their readings partition
        self.direct = True  # False after a batch met stored rows: the staging path until one has no duplicates

    def maintain_partitions(self, retention_days: int) -> PartitionUpkeep:
        """Partitions ahead of today, none past the retention (`powercast.db.partitions.maintain_partitions`)."""
        try:
            return maintain_partitions(self._connection(), retention_days)
        except TRANSIENT_ERRORS:
            self.close()
            raise

    def _connection(self):
        if self._conn is None or self._conn.closed:
            conn = connect(self.url, connect_timeout=self.connect_timeout, application_name="powercast-ingest")
            conn.set_client_encoding("UTF8")  # binary COPY sends text as UTF-8, whatever the session's default
            with conn.cursor() as cur:
                cur.execute(_CREATE_STAGE)
            conn.commit()
            self._conn = conn
        return self._conn

    def write(self, batch: PendingBatch) -> WriteResult:
        """One attempt: everything in `batch` is committed, or nothing is (and the error propagates)."""
        conn = self._connection()
        try:
            missing = batch.days - self._days_ready
            if missing:  # a day not seen yet (a backfill, or midnight): its partition first, committed apart
                create_partitions(conn, missing)
                self._days_ready |= missing
            rejected: list[DeadLetter] = []
            try:
                inserted = self._copy_direct(conn, batch) if self.direct else None
                if inserted is None:
                    self.direct = False  # stays so if the staging path fails too
                    inserted = self._insert_rows(conn, batch)
                    self.direct = inserted == len(batch.readings)
            except REFUSED_ROW_ERRORS as exc:
                # A row that passed validation but the database refuses: find it, dead-letter it, keep the rest.
                conn.rollback()
                log.warning("batch refused by PostgreSQL (%s); writing its rows one by one", _first_line(exc))
                inserted, rejected = self._insert_one_by_one(conn, batch)
            dead_new = self._insert_dead_letters(conn, [*batch.dead_letters, *rejected])
            conn.commit()
        except TRANSIENT_ERRORS:
            self.close()
            raise
        except Exception:
            conn.rollback()
            raise
        return WriteResult(len(batch.readings), inserted, dead_new, rejected)

    @staticmethod
    def _copy_direct(conn, batch: PendingBatch) -> int | None:
        """COPY the batch's readings straight into `readings`: their number, or None (rolled back) when one is
        refused."""
        if not batch.readings:
            return 0
        try:
            with conn.cursor() as cur:
                cur.copy_expert(_COPY_DIRECT, io.BytesIO(batch.copy_data()), size=1 << 20)
        except REFUSED_ROW_ERRORS:
            conn.rollback()
            return None
        return len(batch.readings)

    @staticmethod
    def _insert_rows(conn, batch: PendingBatch) -> int:
        if not batch.readings:
            return 0
        with conn.cursor() as cur:
            cur.copy_expert(_COPY, io.BytesIO(batch.copy_data()), size=1 << 20)
            cur.execute(_INSERT)
            return cur.rowcount

    @staticmethod
    def _insert_one_by_one(conn, batch: PendingBatch) -> tuple[int, list[DeadLetter]]:
        inserted, rejected = 0, []
        with conn.cursor() as cur:
            for reading, source in zip(batch.readings, batch.row_sources):
                cur.execute("SAVEPOINT one_row")
                try:
                    cur.execute(_INSERT_ONE, _row(reading))
                    inserted += cur.rowcount
                    cur.execute("RELEASE SAVEPOINT one_row")
                except REFUSED_ROW_ERRORS as exc:
                    cur.execute("ROLLBACK TO SAVEPOINT one_row")
                    rejected.append(dead_letter(source, f"rejected by PostgreSQL: {_first_line(exc)}", REASON_DATABASE))
        return inserted, rejected

    @staticmethod
    def _insert_dead_letters(conn, letters: list[DeadLetter]) -> int:
        if not letters:
            return 0
        values = [
            (d.topic, d.partition, d.offset, _binary(d.key), _binary(d.payload), d.error, d.reason) for d in letters
        ]
        with conn.cursor() as cur:
            execute_values(cur, _INSERT_DEAD, values, page_size=len(values))
            return cur.rowcount

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # the connection may already be gone with the server
                log.debug("closing the database connection failed", exc_info=True)
            self._conn = None


@dataclass
class Backoff:
    """Exponential backoff with a ceiling: 0.2 s, 0.4 s, ... up to `maximum`."""

    initial: float = 0.2
    maximum: float = 5.0
    factor: float = 2.0

    def delays(self):
        delay = self.initial
        while True:
            yield delay
            delay = min(delay * self.factor, self.maximum)


def write_with_retry(
    writer: BatchWriter,
    batch: PendingBatch,
    *,
    wait: Callable[[float], bool],
    backoff: Backoff | None = None,
    on_retry: Callable[[int, Exception], None] | None = None,
) -> WriteResult | None:
    """Write `batch`, retrying through database outages. `wait(seconds)` sleeps while keeping the consumer alive
    and returns False when the ingestor is asked to stop: then the batch is abandoned (None), uncommitted, and
    its records are read again on the next start."""
    for attempt, delay in enumerate((backoff or Backoff()).delays(), start=1):
        try:
            return writer.write(batch)
        except TRANSIENT_ERRORS as exc:
            if on_retry:
                on_retry(attempt, exc)
            if attempt == 1 or attempt % 10 == 0:
                log.warning(
                    "PostgreSQL unavailable at %s (%s); retrying in %.1f s", redact(writer.url), _first_line(exc), delay
                )
            if not wait(delay):
                return None
    raise AssertionError("unreachable")  # pragma: no cover


def _row(reading: ReadingEvent) -> tuple:
    """The reading as the parameters of `_INSERT_ONE`, in `COPY_COLUMNS` order."""
    return (reading.machine_id, reading.sensor, reading.ts, reading.value, reading.unit, str(reading.event_id))


def _binary(data: bytes | None):
    return None if data is None else psycopg2.Binary(data)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
