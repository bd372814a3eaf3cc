"""`GET /health`: the model served and each dependency of the service, with one overall status.

Dependencies: `champion` (a model loaded, its version and age), `registry` (the last alias check answered) and
`database` (answers a query now; `not_configured` for a service without one). The overall status is `ok` when all
answer, `degraded` when the registry or the database is down but a model is loaded (forecasts on request still
work), and `no_model` (503) while there is no model to serve.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from pydantic import BaseModel

from powercast.serving.champion import ChampionHolder, NoModel
from powercast.serving.replies import short

DATABASE_TIMEOUT_S = 2  # libpq's smallest connect timeout


class Dependency(BaseModel):
    status: str  # ok | down | not_configured
    detail: str | None = None


class Health(BaseModel):
    status: str  # ok | degraded | no_model
    model_name: str | None = None
    model_version: str | None = None
    loaded_at: datetime | None = None
    model_age_s: float | None = None
    reason: str | None = None
    dependencies: dict[str, Dependency] = {}
    last_fleet_run: dict | None = None


def champion_status(holder: ChampionHolder, now: pd.Timestamp) -> Dependency:
    try:
        loaded = holder.current
    except NoModel as exc:
        return Dependency(status="down", detail=short(str(exc), 300))
    age = (now - loaded.loaded_at).total_seconds()
    return Dependency(status="ok", detail=f"version {loaded.version}, loaded {age:.0f} s ago")


def registry_status(holder: ChampionHolder, now: pd.Timestamp) -> Dependency:
    if holder.registry_error:
        return Dependency(status="down", detail=short(holder.registry_error, 300))
    if holder.checked_at is None:
        return Dependency(status="down", detail="the champion alias has not been read yet")
    return Dependency(status="ok", detail=f"alias read {(now - holder.checked_at).total_seconds():.0f} s ago")


def database_status(database_url: str | None) -> Dependency:
    """Whether the database answers `SELECT 1` now."""
    if database_url is None:
        return Dependency(status="not_configured")
    import psycopg2

    from powercast.db.connection import connect
    from powercast.errors import PowercastError

    try:
        conn = connect(database_url, connect_timeout=DATABASE_TIMEOUT_S)
    except PowercastError as exc:
        return Dependency(status="down", detail=short(exc.message, 300))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
    except psycopg2.Error as exc:
        return Dependency(status="down", detail=short(str(exc).strip().split("\n")[0] or type(exc).__name__, 300))
    finally:
        conn.close()
    return Dependency(status="ok")


def fleet_run(last) -> dict | None:
    """The last per-minute fleet round, as /health shows it."""
    if last is None:
        return None
    return {
        "issue_ts": last.issue_ts.isoformat(),
        "machines": last.machines,
        "rows": last.forecast_rows,
        "model_version": last.model_version,
        "seconds": round(last.seconds, 3),
        "error": last.error,
    }


def health_of(holder: ChampionHolder, database_url: str | None, last) -> Health:
    """The health document of a service serving `holder`'s model, whose last fleet round was `last` (or None)."""
    now = pd.Timestamp.now(tz="UTC")
    dependencies = {
        "champion": champion_status(holder, now),
        "registry": registry_status(holder, now),
        "database": database_status(database_url),
    }
    try:
        loaded = holder.current
    except NoModel as exc:
        return Health(status="no_model", reason=str(exc), dependencies=dependencies, last_fleet_run=fleet_run(last))
    down = [name for name, dependency in dependencies.items() if dependency.status == "down"]
    return Health(
        status="degraded" if down else "ok",
        model_name=loaded.name,
        model_version=loaded.version,
        loaded_at=loaded.loaded_at,
        model_age_s=round((now - loaded.loaded_at).total_seconds(), 3),
        reason=f"down: {', '.join(down)}" if down else None,
        dependencies=dependencies,
        last_fleet_run=fleet_run(last),
    )
