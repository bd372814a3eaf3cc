"""Score the fleet once: the champion forecasts every active machine into `forecasts`."""

from __future__ import annotations

from datetime import datetime

from powercast.config import Settings
from powercast.db.connection import connect
from powercast.serving.fleet import FleetRun


def score_fleet_once(settings: Settings, issue_ts: datetime | None = None) -> FleetRun:
    """Load the champion from the registry and forecast, at `issue_ts` (default now, floored to the minute),
    every machine with a recent power reading. A missing champion is reported in the result, not raised."""
    import pandas as pd

    from powercast.serving.champion import registry_holder
    from powercast.serving.fleet import score_fleet

    holder = registry_holder(settings)
    holder.refresh()
    when = pd.Timestamp.now(tz="UTC") if issue_ts is None else pd.Timestamp(issue_ts)
    conn = connect(settings.app_database_url)
    try:
        return score_fleet(conn, holder, when.tz_localize("UTC") if when.tzinfo is None else when)
    finally:
        conn.close()
