"""The daily partitions of `readings` (sql/0010): created ahead of the data, dropped past the retention.

The SQL functions `readings_create_partitions` and `readings_drop_partitions` do the work under one advisory
lock; these helpers decide which days. Days are UTC days, as the partition bounds are.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

DEFAULT_PARTITION = "readings_default"  # rows of days without a partition of their own wait here
DAYS_AHEAD = 7  # partitions kept ready beyond today, so a running ingestor never waits on one


@dataclass(frozen=True)
class PartitionUpkeep:
    created: int
    dropped: list[str] = field(default_factory=list)


def utc_day(ts: datetime) -> date:
    return ts.astimezone(UTC).date()


def create_partitions(conn, days: Iterable[date]) -> int:
    """Make sure each of `days` has its partition; commits; returns how many were created."""
    wanted = sorted(set(days))
    created = 0
    with conn.cursor() as cur:
        for first, last in _runs(wanted):
            cur.execute("SELECT readings_create_partitions(%s, %s)", (first, last))
            created += cur.fetchone()[0]
    conn.commit()
    return created


def maintain_partitions(
    conn, retention_days: int, *, now: datetime | None = None, days_ahead: int = DAYS_AHEAD
) -> PartitionUpkeep:
    """With `retention_days` > 0 drop the partitions whose whole day is older than that many days; then create
    the partitions of today and `days_ahead` days after it, and of the days the default partition holds rows of
    (moving those rows). Commits."""
    today = utc_day(now or datetime.now(UTC))
    dropped: list[str] = []
    with conn.cursor() as cur:
        if retention_days > 0:
            cur.execute("SELECT readings_drop_partitions(%s)", (today - timedelta(days=retention_days),))
            dropped = [name for (name,) in cur.fetchall()]
        cur.execute(f"SELECT DISTINCT (ts AT TIME ZONE 'UTC')::date FROM {DEFAULT_PARTITION}")  # noqa: S608 - a code constant
        stray = [day for (day,) in cur.fetchall()]
    conn.commit()
    ahead = (today + timedelta(days=d) for d in range(days_ahead + 1))
    return PartitionUpkeep(create_partitions(conn, [*ahead, *stray]), dropped)


def _runs(days: list[date]) -> list[tuple[date, date]]:
    """Consecutive stretches of sorted `days`, as (first, last) pairs."""
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and day == runs[-1][1] + timedelta(days=1):
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs
