"""Records of promotion decisions and rollbacks (`model_promotions`) and the champion history view."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field

import pandas as pd

from powercast.names import (
    CHAMPION_HISTORY_VIEW,
    FORECAST_SERVING_HISTORY_VIEW,
    MODEL_PROMOTIONS_TABLE,
    REGISTERED_MODEL,
)


@dataclass(frozen=True)
class PromotionRecord:
    action: str  # "promote" or "rollback"
    triggered_by: str
    champion_version: str | None
    challenger_version: str | None
    champion_mae: float | None
    challenger_mae: float | None
    persistence_mae: float | None
    margin: float | None
    rule: str
    outcome: str
    reason: str
    new_champion_version: str | None
    holdout_start: pd.Timestamp | None = None
    holdout_end: pd.Timestamp | None = None
    details: dict = field(default_factory=dict)


def record(conn, rec: PromotionRecord) -> int:
    """Insert one decision; returns its id."""
    values = asdict(rec)
    values["details"] = json.dumps(_json_safe(values["details"]), default=str)
    for key in ("holdout_start", "holdout_end"):
        values[key] = values[key].to_pydatetime() if values[key] is not None else None
    for key in ("champion_mae", "challenger_mae", "persistence_mae"):
        if values[key] is not None and pd.isna(values[key]):
            values[key] = None
    columns = list(values)
    with conn.cursor() as cur:
        cur.execute(
            f"INSERT INTO {MODEL_PROMOTIONS_TABLE} (registered_model, {', '.join(columns)}) "  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
            f"VALUES (%s, {', '.join(['%s'] * len(columns))}) RETURNING id",
            [REGISTERED_MODEL, *values.values()],
        )
        new_id = cur.fetchone()[0]
    conn.commit()
    return new_id


def _json_safe(value):
    """NaN and infinities become null (PostgreSQL's json refuses them)."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def decisions(conn, limit: int = 50) -> pd.DataFrame:
    """The latest decisions, newest first."""
    with conn.cursor() as cur:
        cur.execute(
            f"""SELECT id, decided_at, action, triggered_by, champion_version, challenger_version,
                               champion_mae, challenger_mae, persistence_mae, margin, outcome, reason,
                               new_champion_version
                        FROM {MODEL_PROMOTIONS_TABLE} WHERE registered_model = %s
                        ORDER BY decided_at DESC, id DESC LIMIT %s""",  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
            (REGISTERED_MODEL, limit),
        )
        cols = [d[0] for d in cur.description]
        return pd.DataFrame(cur.fetchall(), columns=cols)


def champion_history(conn) -> pd.DataFrame:
    """Which version was champion when: one row per period (valid_to NULL for the current one)."""
    with conn.cursor() as cur:
        cur.execute(
            f"SELECT version, valid_from, valid_to, action, triggered_by FROM {CHAMPION_HISTORY_VIEW} "  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
            "WHERE registered_model = %s ORDER BY valid_from",
            (REGISTERED_MODEL,),
        )
        cols = [d[0] for d in cur.description]
        return pd.DataFrame(cur.fetchall(), columns=cols)


def serving_history(conn) -> pd.DataFrame:
    """Which model version issued the stored forecasts, over which span of issue times."""
    with conn.cursor() as cur:
        cur.execute(
            f"SELECT model_name, model_version, first_issue_ts, last_issue_ts, machines, forecasts "  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
            f"FROM {FORECAST_SERVING_HISTORY_VIEW} ORDER BY first_issue_ts"
        )
        cols = [d[0] for d in cur.description]
        return pd.DataFrame(cur.fetchall(), columns=cols)
