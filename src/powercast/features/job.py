"""The feature job: `readings` -> `features_1m`, incrementally and idempotently, one snapshot per run.

A run is one transaction (an advisory lock keeps runs apart). It recomputes whole minutes from `readings` in
SQL and upserts them; a row is written only when its values change, so running again changes nothing.

Which minutes: a full run (the first run, `full=True`, or after the aggregation changed) takes every minute in
[since, until). An incremental run takes the minutes touched by readings ingested after the previous run's
watermark, less a settle margin for ingest transactions that were still open when that run read: the
still-filling current minute and late readings for old minutes are recomputed the same way. The watermark is
the run's transaction start; a run bounded by since/until keeps the previous watermark (it did not look at
everything), so the next unbounded run still catches the rest.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

import psycopg2

from powercast.errors import PowercastError
from powercast.features.frame import STATS
from powercast.names import FEATURE_SNAPSHOTS_TABLE, FEATURES_TABLE, READINGS_TABLE
from powercast.stream.events import SENSORS

_LOCK_KEY = 7_422_614_003  # pg_advisory_xact_lock key: one feature run at a time
DB_STATS = ("mean", *STATS)
SETTLE = timedelta(seconds=60)
CHUNK = timedelta(hours=6)
_TOUCHED_TABLE = "pg_temp.feature_touched_minutes"  # session-private; schema-qualified so nothing else matches


class Progress(Protocol):
    """What a progress bar offers (tqdm does)."""

    total: float | None

    def update(self, n: float = 1) -> object: ...

    def refresh(self) -> object: ...


@dataclass
class FeatureRun:
    """What one run covered and changed (also stored as a feature_snapshots row)."""

    snapshot_id: int
    mode: str
    range_start: datetime | None
    range_end: datetime | None
    machines: list[str] = field(default_factory=list)
    minutes_recomputed: int = 0
    row_count: int = 0
    watermark: datetime | None = None
    spec_hash: str = ""
    duration_s: float = 0.0
    reason: str = ""


def value_columns() -> list[str]:
    """The features_1m value columns, sensor by sensor: mean, min, max, std, last, count."""
    return [f"{sensor}_{stat}" for sensor in SENSORS for stat in DB_STATS]


def _aggregates() -> str:
    parts = []
    for sensor in SENSORS:
        only = f"FILTER (WHERE r.sensor = '{sensor}')"
        parts += [
            f"avg(r.value) {only}",
            f"min(r.value) {only}",
            f"max(r.value) {only}",
            f"stddev_samp(r.value) {only}",
            f"(array_agg(r.value ORDER BY r.ts DESC) {only})[1]",
            f"count(*) {only}",
        ]
    return ",\n       ".join(parts)


def aggregation_hash() -> str:
    """Digest of the aggregation SQL: a change forces a full recompute."""
    return hashlib.sha256((",".join(value_columns()) + _aggregates()).encode()).hexdigest()[:16]


def _upsert_sql(source: str, group: str) -> str:
    columns = value_columns()
    names = ", ".join(columns)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns)
    return f"""
WITH agg AS (
SELECT {group}, {_aggregates()}
FROM {source}
GROUP BY 1, 2),
written AS (
INSERT INTO {FEATURES_TABLE} AS f (machine_id, ts, {names}, snapshot_id)
SELECT agg.*, %(snapshot)s FROM agg
ON CONFLICT (machine_id, ts) DO UPDATE SET {updates}, snapshot_id = EXCLUDED.snapshot_id, computed_at = now()
WHERE ({", ".join(f"f.{c}" for c in columns)}) IS DISTINCT FROM ({", ".join(f"EXCLUDED.{c}" for c in columns)})
RETURNING 1)
SELECT (SELECT count(*) FROM agg), (SELECT count(*) FROM written), (SELECT min(ts) FROM agg),
       (SELECT max(ts) FROM agg), (SELECT coalesce(array_agg(DISTINCT machine_id), '{{}}') FROM agg)"""  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters


_FULL = _upsert_sql(
    f"{READINGS_TABLE} r WHERE r.ts >= %(lo)s AND r.ts < %(hi)s", "r.machine_id, date_trunc('minute', r.ts) AS ts"
)
_TOUCHED = _upsert_sql(
    f"{READINGS_TABLE} r WHERE r.ts >= %(lo)s AND r.ts < %(hi)s "  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
    f"AND (r.machine_id, date_trunc('minute', r.ts)) IN (SELECT machine_id, minute FROM {_TOUCHED_TABLE})",
    "r.machine_id, date_trunc('minute', r.ts) AS ts",
)


def run_feature_job(
    conn,
    since: datetime | None = None,
    until: datetime | None = None,
    full: bool = False,
    settle: timedelta = SETTLE,
    chunk: timedelta = CHUNK,
    progress: Progress | None = None,
) -> FeatureRun:
    """Bring features_1m up to date with readings (see the module doc); commits and returns the run."""
    started = time.monotonic()
    spec_hash = aggregation_hash()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            cur.execute("SELECT now()")
            now = cur.fetchone()[0]
            previous = _latest(cur)
            mode, reason = _choose_mode(previous, full, spec_hash)
            bounded = since is not None or until is not None
            watermark = now
            if bounded:  # a bounded run did not look at everything: keep the previous watermark, if still valid
                same = previous is not None and previous["spec_hash"] == spec_hash
                watermark = previous["watermark"] if same else None
            snapshot_id = _open_snapshot(cur, mode, since, until, spec_hash)
            if mode == "full":
                spans = _occupied_spans(cur, since, until, chunk)
                statement = _FULL
            else:
                _collect_touched(cur, previous["watermark"] - settle, since, until)
                spans = _touched_spans(cur, chunk)
                statement = _TOUCHED
            run = FeatureRun(snapshot_id, mode, None, None, watermark=watermark, spec_hash=spec_hash, reason=reason)
            _run_spans(cur, statement, spans, snapshot_id, run, progress)
            run.duration_s = time.monotonic() - started
            _close_snapshot(cur, run)
        conn.commit()
        return run
    except psycopg2.errors.UndefinedTable as exc:
        conn.rollback()
        raise PowercastError(
            f"the feature tables are missing ({str(exc).splitlines()[0]})",
            "apply the schema with `powercast db migrate`",
        ) from exc
    except Exception:
        conn.rollback()
        raise


def _latest(cur) -> dict | None:
    cur.execute(f"SELECT id, watermark, spec_hash FROM {FEATURE_SNAPSHOTS_TABLE} ORDER BY id DESC LIMIT 1")  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
    row = cur.fetchone()
    return None if row is None else {"id": row[0], "watermark": row[1], "spec_hash": row[2]}


def _choose_mode(previous: dict | None, full: bool, spec_hash: str) -> tuple[str, str]:
    if full:
        return "full", "asked for a full recompute"
    if previous is None or previous["watermark"] is None:
        return "full", "no earlier complete run"
    if previous["spec_hash"] != spec_hash:
        return "full", f"the aggregation changed since snapshot {previous['id']}"
    return "incremental", f"readings ingested since snapshot {previous['id']}"


def _bounds_sql(column: str) -> str:
    return (
        f"(%(since)s::timestamptz IS NULL OR {column} >= %(since)s) "
        f"AND (%(until)s::timestamptz IS NULL OR {column} < %(until)s)"
    )


def _collect_touched(cur, after: datetime, since: datetime | None, until: datetime | None) -> None:
    cur.execute(f"DROP TABLE IF EXISTS {_TOUCHED_TABLE}")
    cur.execute(
        f"""CREATE TEMP TABLE {_TOUCHED_TABLE.split(".")[1]} ON COMMIT DROP AS
        SELECT DISTINCT machine_id, date_trunc('minute', ts) AS minute FROM {READINGS_TABLE} r
        WHERE ingested_at > %(after)s AND {_bounds_sql("date_trunc('minute', ts)")}""",  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
        {"after": after, "since": since, "until": until},
    )
    cur.execute(f"ANALYZE {_TOUCHED_TABLE}")


def _occupied_spans(cur, since, until, chunk: timedelta) -> list[tuple[datetime, datetime]]:
    """Per `chunk`-long time bin holding readings: the span from its first to its last minute. Empty bins get
    no span, so a few stray readings years apart cost two spans, not a walk over every bin in between."""
    cur.execute(
        f"""SELECT date_trunc('minute', min(ts)), date_trunc('minute', max(ts)) + interval '1 minute'
                   FROM {READINGS_TABLE} r WHERE {_bounds_sql("r.ts")}
                   GROUP BY date_bin(%(chunk)s, ts, timestamptz '2000-01-03 00:00+00') ORDER BY 1""",  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
        {"since": since, "until": until, "chunk": chunk},
    )
    return [tuple(row) for row in cur.fetchall()]


def _touched_spans(cur, chunk: timedelta) -> list[tuple[datetime, datetime]]:
    """Per `chunk`-long time bin holding touched minutes: the span from its first to its last touched minute.
    Scanning readings by these narrow ts ranges (BRIN) then semi-joining the touched minutes is fast both for a
    few fresh minutes and for a scattered set of late ones."""
    cur.execute(
        f"""SELECT min(minute), max(minute) + interval '1 minute' FROM {_TOUCHED_TABLE}
                   GROUP BY date_bin(%s, minute, timestamptz '2000-01-03 00:00+00') ORDER BY 1""",  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
        (chunk,),
    )
    return [tuple(row) for row in cur.fetchall()]


def _run_spans(cur, statement: str, spans, snapshot_id: int, run: FeatureRun, progress: Progress | None) -> None:
    if progress is not None:
        progress.total = len(spans)
        progress.refresh()
    machines: set[str] = set()
    for lo, hi in spans:
        cur.execute(statement, {"lo": lo, "hi": hi, "snapshot": snapshot_id})
        minutes, written, first, last, names = cur.fetchone()
        run.minutes_recomputed += minutes
        run.row_count += written
        if first is not None:
            run.range_start = first if run.range_start is None else min(run.range_start, first)
            last_end = last + timedelta(minutes=1)
            run.range_end = last_end if run.range_end is None else max(run.range_end, last_end)
        machines.update(names)
        if progress is not None:
            progress.update(1)
    run.machines = sorted(machines)


def _open_snapshot(cur, mode: str, since, until, spec_hash: str) -> int:
    cur.execute(
        f"INSERT INTO {FEATURE_SNAPSHOTS_TABLE} (mode, since, until, spec_hash) VALUES (%s, %s, %s, %s) RETURNING id",  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
        (mode, since, until, spec_hash),
    )
    return cur.fetchone()[0]


def _close_snapshot(cur, run: FeatureRun) -> None:
    cur.execute(
        f"""UPDATE {FEATURE_SNAPSHOTS_TABLE} SET range_start = %s, range_end = %s, machines = %s,
                    minutes_recomputed = %s, row_count = %s, watermark = %s, duration_s = %s WHERE id = %s""",  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
        (
            run.range_start,
            run.range_end,
            run.machines,
            run.minutes_recomputed,
            run.row_count,
            run.watermark,
            run.duration_s,
            run.snapshot_id,
        ),
    )
