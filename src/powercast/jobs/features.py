"""Feature snapshot: bring `features_1m` up to date with `readings` and record the snapshot."""

from __future__ import annotations

from datetime import datetime

from powercast.config import Settings
from powercast.db.connection import connect
from powercast.db.partitions import maintain_partitions
from powercast.errors import PowercastError
from powercast.features.job import FeatureRun, Progress, run_feature_job


def snapshot_features(
    settings: Settings,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    full: bool = False,
    progress: Progress | None = None,
) -> FeatureRun:
    """Recompute the minutes touched since the last snapshot (all of [since, until) with `full`); one
    transaction, safe to repeat. Returns what was covered and written. First keeps the readings partitions
    ready ahead and drops those past `settings.readings_retention_days`."""
    if since and until and since >= until:
        raise PowercastError("the snapshot's start must be before its end", "swap or fix the two times")
    conn = connect(settings.app_database_url)
    try:
        maintain_partitions(conn, settings.readings_retention_days)
        return run_feature_job(conn, since=since, until=until, full=full, progress=progress)
    finally:
        conn.close()
