"""The fleet's minute statistics of the recent past, kept between rounds so a round reads only what is new.

A round needs every active machine's last hour or so as a minute frame. Read whole, that is 1.68M readings for
1,000 machines every minute, of which all but the newest minute were read the round before. `MinuteCache` keeps
the statistics of every (machine, sensor, minute) (`features.aggregate.reading_groups`: each depends only on its
own minute's readings) and, each round, reads from `readings`:

- the minutes since the previous round, for the machines it holds, and again the previous round's last minute
  (it was still filling then);
- the whole window for machines it does not hold yet;
- every minute of the window that a reading ingested since the previous read (less a settle margin for ingest
  transactions still open when that read ran, as the feature job does) fell into: late readings, the previous
  round's still-filling minute, a replay after an outage. Those minutes are read again whole and replace their
  groups.

The groups then become the minute frame with the same grid, hold and attributes as a full read
(`minute_frame_from_groups`): equal to it exactly (`tests/integration/test_minute_cache.py`). `readings` only
grows (rows are never updated, and deletes are whole old days), so nothing else can change a held minute; to
bound what a deleted row or an ingest transaction open past the settle margin could leave behind anyway, the cache
reads everything again every `rebuild_every` rounds, and whenever a round's window starts earlier or ends earlier
than the cache's.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from powercast.features.aggregate import GROUP_COLUMNS, MINUTE_NS, minute_frame_from_groups, reading_groups
from powercast.names import MACHINES_TABLE, READINGS_TABLE
from powercast.scoring.model import with_known_attributes
from powercast.scoring.readings import copy_readings, ts_microseconds
from powercast.stream.events import SENSORS

SETTLE = pd.Timedelta(seconds=60)
REBUILD_EVERY = 60  # rounds: a full read once an hour at one round a minute


@dataclass(frozen=True)
class CacheRead:
    """What one `MinuteCache.minute_frame` call read: `full` when it read the whole window."""

    full: bool
    readings: int
    minutes_reread: int


class MinuteCache:
    """Minute statistics of the fleet's recent readings between rounds (see the module doc). Thread-safe."""

    def __init__(self, settle: pd.Timedelta = SETTLE, rebuild_every: int = REBUILD_EVERY):
        self.settle = settle
        self.rebuild_every = rebuild_every
        self._groups = pd.DataFrame(columns=GROUP_COLUMNS)
        self._since: pd.Timestamp | None = None
        self._until: pd.Timestamp | None = None
        self._watermark: pd.Timestamp | None = None
        self._rounds = 0
        self._lock = threading.Lock()
        self.last_read: CacheRead | None = None

    @property
    def nbytes(self) -> int:
        """Memory the held minute statistics take (their frame, strings included)."""
        with self._lock:
            return int(self._groups.memory_usage(deep=True).sum())

    def clear(self) -> None:
        with self._lock:
            self._until = None

    def minute_frame(
        self,
        conn,
        since: pd.Timestamp,
        until: pd.Timestamp,
        machines: Sequence[str],
        known: pd.DataFrame | None = None,
    ) -> pd.DataFrame | None:
        """The minute frame of `machines`' readings in [since, until) (both minute starts), with their registered
        attributes, else those in `known`; None when they hold no readings there."""
        with self._lock:
            groups = self._refresh(conn, since, until, list(machines))
            if groups.empty:
                return None
            attributes = with_known_attributes(_registered_attributes(conn, groups["machine_id"].unique()), known)
            return minute_frame_from_groups(groups, attributes)

    def _refresh(self, conn, since: pd.Timestamp, until: pd.Timestamp, machines: list[str]) -> pd.DataFrame:
        full = (
            self._until is None or self._rounds % self.rebuild_every == 0 or since < self._since or until < self._until
        )
        held = set() if full else set(self._groups["machine_id"].unique())
        cached = [m for m in machines if m in held]
        new = [m for m in machines if m not in held]
        # The previous round's last minute was still filling: read it again whole, with what came since.
        reread_from = max(since, self._until - pd.Timedelta(minutes=1)) if cached else until
        with conn.cursor() as cur:
            cur.execute("SELECT now()")  # the transaction's start: the next read's watermark
            watermark = pd.Timestamp(cur.fetchone()[0])
            parts = [_window(since, until, new), _window(reread_from, until, cached)]
            if cached:
                parts.append(_touched(since, reread_from, cached, self._watermark - self.settle))
            fresh = _copy(cur, [part for part in parts if part is not None])
        conn.commit()
        fresh_groups = reading_groups(fresh) if len(fresh) else pd.DataFrame(columns=GROUP_COLUMNS)
        # Groups of cached machines before reread_from come from touched minutes only: those replace theirs.
        reread = _minutes_of(fresh_groups[fresh_groups["minute"].to_numpy(np.int64) < _minute(reread_from)])
        keep = self._groups.iloc[:0]
        if cached:
            minute = self._groups["minute"].to_numpy(np.int64)
            stays = (minute >= _minute(since)) & (minute < _minute(reread_from))
            stays &= self._groups["machine_id"].isin(cached).to_numpy()
            if reread:
                pairs = pd.MultiIndex.from_arrays([self._groups["machine_id"], minute])
                stays &= ~pairs.isin(list(reread))
            keep = self._groups[stays]
        self._groups = pd.concat([keep, fresh_groups], ignore_index=True) if len(keep) else fresh_groups
        self._since, self._until, self._watermark = since, until, watermark
        self._rounds = 1 if full else self._rounds + 1
        self.last_read = CacheRead(full, len(fresh), len(reread))
        return self._groups


_SELECT = f"SELECT r.machine_id, r.sensor, {ts_microseconds('r.ts')}, r.value FROM {READINGS_TABLE} r"  # noqa: S608 - identifiers are code constants (powercast.names)


def _window(since: pd.Timestamp, until: pd.Timestamp, machines: list[str]) -> tuple[str, list] | None:
    """The readings of `machines` in [since, until)."""
    if not machines or since >= until:
        return None
    return f"{_SELECT} WHERE r.ts >= %s AND r.ts < %s AND r.machine_id = ANY(%s)", [since, until, machines]


def _touched(
    since: pd.Timestamp, until: pd.Timestamp, machines: list[str], after: pd.Timestamp
) -> tuple[str, list] | None:
    """Every reading of the minutes in [since, until) of `machines` that a reading ingested after `after` fell
    into (one index range per minute and sensor)."""
    if since >= until:
        return None
    sensors = list(SENSORS)
    return (
        f"""{_SELECT}
            JOIN (SELECT DISTINCT machine_id, date_trunc('minute', ts, 'UTC') AS minute FROM {READINGS_TABLE}
                  WHERE ingested_at > %s AND ts >= %s AND ts < %s AND machine_id = ANY(%s)) t
              ON r.machine_id = t.machine_id
            JOIN unnest(%s::text[]) AS s(sensor) ON r.sensor = s.sensor
            WHERE r.ts >= t.minute AND r.ts < t.minute + interval '1 minute'""",  # noqa: S608 - identifiers are code constants (powercast.names); values are bound by mogrify
        [after, since, until, machines, sensors],
    )


def _copy(cur, parts: list[tuple[str, list]]) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame(columns=["machine_id", "sensor", "ts", "value"])
    return copy_readings(cur, " UNION ALL ".join(sql for sql, _ in parts), [arg for _, args in parts for arg in args])


def _minute(ts: pd.Timestamp) -> int:
    return ts.value // MINUTE_NS


def _minutes_of(groups: pd.DataFrame) -> set[tuple[str, int]]:
    return set(zip(groups["machine_id"], groups["minute"].to_numpy(np.int64).tolist()))


def _registered_attributes(conn, machines) -> pd.DataFrame | None:
    """The `machines` table's attributes of `machines`, one row each in machine order, as the model's
    `machine_attributes` reads them off `recent_readings`' rows: an attribute no machine has is left out."""
    with conn.cursor() as cur:
        cur.execute(
            f"SELECT machine_id, machine_type, rated_power_w FROM {MACHINES_TABLE} WHERE machine_id = ANY(%s)",  # noqa: S608 - identifiers are code constants
            (list(machines),),
        )
        found = {machine: (kind, rated) for machine, kind, rated in cur.fetchall()}
    conn.commit()
    ids = sorted(str(m) for m in machines)
    kinds = np.array([found.get(m, (None, None))[0] for m in ids], dtype=object)
    rated = np.array([np.nan if found.get(m, (None, None))[1] is None else float(found[m][1]) for m in ids])
    out = {"machine_id": np.array(ids, dtype=object)}
    if pd.notna(kinds).any():
        out["machine_type"] = kinds
    if pd.notna(rated).any():
        out["rated_power_w"] = rated
    return pd.DataFrame(out) if len(out) > 1 else None
