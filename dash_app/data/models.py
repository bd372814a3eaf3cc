"""The Models page's data and actions: champion and challenger from the registry, forecast quality by horizon,
the operator-rejected rate, the promotion history, and starting training, promotion or rollback (admins only)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from dash_app.airflow import AirflowUnavailable
from powercast.feedback.users import User, refusal
from powercast.names import FEATURES_TABLE, FORECASTS_TABLE, PROMOTE_DAG_ID, TRAIN_DAG_ID

ACTIONS = {  # action -> (DAG id or None when it runs here, the CLI command that does the same)
    "train": (TRAIN_DAG_ID, "powercast train"),
    "promote": (PROMOTE_DAG_ID, "powercast promote"),
    "rollback": (None, "powercast rollback"),
}
CARD_METRICS = ("mae", "ratio_to_persistence", "coverage")

QUALITY_SQL = f"""
SELECT f.model_version, f.step, count(*) AS n,
       avg(abs(a.power_mean - f.yhat)) AS mae,
       avg(CASE WHEN a.power_mean BETWEEN f.yhat_lo AND f.yhat_hi THEN 1.0 ELSE 0.0 END) AS coverage
FROM {FORECASTS_TABLE} f
JOIN {FEATURES_TABLE} a ON a.machine_id = f.machine_id AND a.ts = f.ts
WHERE f.issue_ts > %(since)s AND f.ts + interval '1 minute' <= %(now)s AND a.power_mean IS NOT NULL
GROUP BY f.model_version, f.step ORDER BY f.model_version, f.step
"""


def quality_by_horizon(conn, now: datetime, hours: float = 24.0) -> pd.DataFrame:
    """Matured forecasts of the last `hours` against `features_1m.power_mean`: per model version and step, the
    number of scored minutes, the MAE (W) and the share inside the 10-90 % band."""
    with conn.cursor() as cur:
        cur.execute(QUALITY_SQL, {"since": now - timedelta(hours=hours), "now": now})
        rows = cur.fetchall()
    conn.rollback()
    out = pd.DataFrame(rows, columns=["model_version", "step", "n", "mae", "coverage"])
    for column in ("mae", "coverage"):
        out[column] = out[column].astype(float)
    return out


@dataclass(frozen=True)
class ModelCard:
    alias: str
    version: str | None
    model_name: str | None = None
    data_end: str | None = None
    metrics: dict | None = None


def registry_cards(settings) -> tuple[list[ModelCard], str | None]:
    """Champion and challenger with their cross-validated metrics; (cards, None) or ([], why not)."""
    from powercast import registry
    from powercast.errors import PowercastError
    from powercast.names import CHALLENGER_ALIAS, CHAMPION_ALIAS

    try:
        client = registry.connect(settings)
        cards = []
        for alias in (CHAMPION_ALIAS, CHALLENGER_ALIAS):
            ref = registry.version_by_alias(client, alias)
            if ref is None:
                cards.append(ModelCard(alias, None))
                continue
            name = ref.tags.get("model_name")
            metrics = {}
            if ref.run_id:
                logged = client.get_run(ref.run_id).data.metrics
                metrics = {m: logged.get(f"{name}.{m}") for m in CARD_METRICS}
                metrics["rejected_rate_at_training"] = logged.get("feedback.rejected_rate")
            cards.append(ModelCard(alias, ref.version, name, ref.tags.get("data_end"), metrics))
        return cards, None
    except PowercastError as exc:
        return [], str(exc)
    except Exception as exc:  # the page stays up when the registry misbehaves
        return [], f"the MLflow registry could not be read ({exc.__class__.__name__}: {exc})"


@dataclass(frozen=True)
class ActionResult:
    ok: bool
    message: str
    run: dict | None = None  # {"dag_id", "run_id", "state"} of a started DAG run


def run_action(action: str, user: User | None, airflow, rollback: Callable[[str], str]) -> ActionResult:
    """Start `action` for `user`: checked against the role first (on the server, whatever the page shows); train and
    promote start a DAG run through `airflow`, rollback calls `rollback(triggered_by)` (returns a message)."""
    if action not in ACTIONS:
        return ActionResult(False, f"unknown action {action!r}")
    refused = refusal(user, action)
    if refused:
        return ActionResult(False, refused)
    dag_id, command = ACTIONS[action]
    who = f"dash:{user.username}"
    if dag_id is None:
        try:
            return ActionResult(True, rollback(who))
        except Exception as exc:
            return ActionResult(False, f"rollback failed: {exc}")
    try:
        run = airflow.trigger(dag_id, conf={"triggered_by": who}, note=f"started from the control center by {who}")
    except AirflowUnavailable as exc:
        return ActionResult(
            False, f"Airflow is not available ({exc}): start Airflow, or run `{command}` on the server instead."
        )
    return ActionResult(True, f"started {dag_id} run {run.run_id} ({run.state})", vars(run) | {"finished": False})


def poll_run(run: dict | None, airflow) -> tuple[str, bool]:
    """(what to show, finished) for a started DAG run."""
    if not run:
        return "", True
    try:
        state = airflow.run(run["dag_id"], run["run_id"])
    except AirflowUnavailable as exc:
        return f"{run['dag_id']} run {run['run_id']}: state unknown ({exc})", False
    return f"{state.dag_id} run {state.run_id}: {state.state}", state.finished


def rejected_table(rates: pd.DataFrame) -> list[dict]:
    return [
        {
            "model version": f"v{r['model_version']}",
            "labelled": int(r["labelled"]),
            "rejected": int(r["rejected"]),
            "rate": f"{r['rate']:.0%}",
        }
        for r in rates.to_dict(orient="records")
    ]


def history_table(decisions: pd.DataFrame) -> list[dict]:
    rows = []
    for r in decisions.to_dict(orient="records"):
        rows.append(
            {
                "when": f"{pd.Timestamp(r['decided_at']).tz_convert('UTC'):%Y-%m-%d %H:%M}",
                "action": r["action"],
                "outcome": r["outcome"],
                "champion": r["champion_version"] or "-",
                "challenger": r["challenger_version"] or "-",
                "new champion": r["new_champion_version"] or "-",
                "by": r["triggered_by"],
                "reason": r["reason"],
            }
        )
    return rows
