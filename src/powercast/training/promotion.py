"""Champion/challenger promotion and rollback: gather evidence, apply the pure rule, move aliases, record.

The rule itself lives in `powercast.training.decision`; this module does the I/O around it (MLflow registry,
the holdout from the `readings` table, the `model_promotions` table, tags on the versions).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pandas as pd

from powercast import registry
from powercast.config import Settings
from powercast.db.connection import connect as db_connect
from powercast.errors import PowercastError
from powercast.features.spec import HORIZON
from powercast.names import CHALLENGER_ALIAS, CHAMPION_ALIAS, PREVIOUS_CHAMPION_ALIAS, REGISTERED_MODEL
from powercast.training import holdout as holdout_mod
from powercast.training.decision import ROLLED_BACK, Evidence, decide
from powercast.training.defaults import DEFAULT_HOURS, DEFAULT_MARGIN
from powercast.training.promotion_log import PromotionRecord, record

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PromotionResult:
    record: PromotionRecord
    record_id: int


def trained_through(version) -> pd.Timestamp | None:
    """The last minute of training data of a registered version (its `data_end` tag), if recorded."""
    end = version.tags.get("data_end") if version is not None else None
    return pd.Timestamp(end) if end else None


def load_holdout(conn, models: list, hours: float, until: pd.Timestamp | None = None) -> holdout_mod.Holdout:
    """The most recent `hours` of readings (plus the history the models need) as a minute-frame holdout."""
    from powercast.scoring.model import minute_frame, normalize_readings
    from powercast.scoring.readings import recent_readings

    until = (until or pd.Timestamp.now(tz="UTC")).floor("min")
    lookback = max(m.min_history for m in models) + 5
    since = until - pd.Timedelta(hours=hours) - pd.Timedelta(minutes=lookback)
    readings = recent_readings(conn, since, until)
    if readings.empty:
        raise PowercastError(
            f"no readings between {since} and {until}",
            "ingest recent readings (simulator + ingestor) or use more hours (--hours)",
        )
    return holdout_mod.make_holdout(
        minute_frame(normalize_readings(readings)), hours, HORIZON, not_before=until - pd.Timedelta(hours=hours)
    )


def promote(
    settings: Settings,
    *,
    margin: float = DEFAULT_MARGIN,
    hours: float = DEFAULT_HOURS,
    triggered_by: str = "cli",
    until: pd.Timestamp | None = None,
) -> PromotionResult:
    """Evaluate champion and challenger on the same holdout, decide, move aliases, record the decision."""
    client = registry.connect(settings)
    challenger = registry.version_by_alias(client, CHALLENGER_ALIAS)
    if challenger is None:
        raise PowercastError(
            f"{REGISTERED_MODEL} has no '{CHALLENGER_ALIAS}' version",
            "train first (`powercast train`), which registers one",
        )
    champion = registry.version_by_alias(client, CHAMPION_ALIAS)
    models = {"challenger": registry.load_forecaster_model(settings, challenger.version)}
    if champion is not None:
        models["champion"] = registry.load_forecaster_model(settings, champion.version)
    until = (until or pd.Timestamp.now(tz="UTC")).floor("min")
    through = {"challenger": trained_through(challenger), "champion": trained_through(champion)}
    unseen_hours = holdout_mod.unseen_window(until, hours, list(through.values()), HORIZON)
    conn = db_connect(settings.app_database_url)
    try:
        holdout = load_holdout(conn, list(models.values()), unseen_hours, until)
        scores = {label: holdout_mod.score(m.forecaster, holdout) for label, m in models.items()}
        scores["persistence"] = holdout_mod.score(holdout_mod.persistence_baseline(holdout, HORIZON), holdout)
        evidence = Evidence(
            challenger.version,
            scores["challenger"]["mae"],
            scores["persistence"]["mae"],
            champion.version if champion else None,
            scores["champion"]["mae"] if champion else None,
        )
        decision = decide(evidence, margin)
        if decision.promote:
            _move_aliases(client, new=challenger.version, old=champion.version if champion else None)
        new_champion = challenger.version if decision.promote else (champion.version if champion else None)
        rec = PromotionRecord(
            action="promote",
            triggered_by=triggered_by,
            champion_version=evidence.champion_version,
            challenger_version=challenger.version,
            champion_mae=evidence.champion_mae,
            challenger_mae=evidence.challenger_mae,
            persistence_mae=evidence.persistence_mae,
            margin=margin,
            rule=decision.rule,
            outcome=decision.outcome,
            reason=decision.reason,
            new_champion_version=new_champion,
            holdout_start=holdout.start,
            holdout_end=holdout.end,
            details={
                "scores": scores,
                "hours": unseen_hours,
                "issue_times": len(holdout.issue_times),
                "machines": int(holdout.frame["machine_id"].nunique()),
                "trained_through": {role: str(t) if t is not None else None for role, t in through.items()},
            },
        )
        record_id = record(conn, rec)
    finally:
        conn.close()
    _tag_decision(client, rec, record_id)
    return PromotionResult(rec, record_id)


def _move_aliases(client, *, new: str, old: str | None) -> None:
    if old is not None:
        registry.set_alias(client, PREVIOUS_CHAMPION_ALIAS, old)
    registry.set_alias(client, CHAMPION_ALIAS, new)
    registry.delete_alias(client, CHALLENGER_ALIAS)


def _tag_decision(client, rec: PromotionRecord, record_id: int) -> None:
    stamp = pd.Timestamp.now(tz="UTC").isoformat(timespec="seconds")
    common = {
        "promotion.id": record_id,
        "promotion.outcome": rec.outcome,
        "promotion.at": stamp,
        "promotion.triggered_by": rec.triggered_by,
        "promotion.reason": rec.reason[:4900],
    }
    if rec.challenger_version:
        registry.tag_version(
            client,
            rec.challenger_version,
            {
                **common,
                "promotion.role": "challenger" if rec.action == "promote" else "restored",
                "holdout.mae": _fmt(rec.challenger_mae),
                "holdout.persistence_mae": _fmt(rec.persistence_mae),
            },
        )
    if rec.champion_version and rec.champion_version != rec.challenger_version:
        registry.tag_version(
            client,
            rec.champion_version,
            {
                **common,
                "promotion.role": "champion" if rec.action == "promote" else "rolled_back",
                "holdout.mae": _fmt(rec.champion_mae),
            },
        )


def _fmt(value: float | None) -> str:
    return "" if value is None or pd.isna(value) else f"{value:.6g}"


def rollback(settings: Settings, *, triggered_by: str = "cli", reason: str = "manual rollback") -> PromotionResult:
    """Make `previous-champion` the champion again; the demoted version is tagged and the act recorded."""
    client = registry.connect(settings)
    previous = registry.version_by_alias(client, PREVIOUS_CHAMPION_ALIAS)
    if previous is None:
        raise PowercastError(
            f"{REGISTERED_MODEL} has no '{PREVIOUS_CHAMPION_ALIAS}' version to restore",
            "a rollback needs an earlier promotion",
        )
    champion = registry.version_by_alias(client, CHAMPION_ALIAS)
    registry.set_alias(client, CHAMPION_ALIAS, previous.version)
    registry.delete_alias(client, PREVIOUS_CHAMPION_ALIAS)
    rec = PromotionRecord(
        action="rollback",
        triggered_by=triggered_by,
        champion_version=champion.version if champion else None,
        challenger_version=previous.version,
        champion_mae=None,
        challenger_mae=None,
        persistence_mae=None,
        margin=None,
        rule=f"restore '{PREVIOUS_CHAMPION_ALIAS}'",
        outcome=ROLLED_BACK,
        reason=reason,
        new_champion_version=previous.version,
    )
    conn = db_connect(settings.app_database_url)
    try:
        record_id = record(conn, rec)
    finally:
        conn.close()
    _tag_decision(client, rec, record_id)
    return PromotionResult(rec, record_id)
