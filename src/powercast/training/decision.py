"""The champion/challenger rule as a pure function: evidence in, decision out (no MLflow, no database)."""

from __future__ import annotations

import math
from dataclasses import dataclass

PROMOTED, KEPT, REJECTED, ROLLED_BACK = "promoted", "kept", "rejected", "rolled_back"


@dataclass(frozen=True)
class Evidence:
    """MAEs of the candidates on one holdout. `champion_*` are None when there is no champion yet."""

    challenger_version: str
    challenger_mae: float
    persistence_mae: float
    champion_version: str | None = None
    champion_mae: float | None = None


@dataclass(frozen=True)
class Decision:
    outcome: str  # PROMOTED, KEPT (champion stays) or REJECTED (no champion, challenger not good enough)
    rule: str
    reason: str

    @property
    def promote(self) -> bool:
        return self.outcome == PROMOTED


def rule_text(margin: float) -> str:
    return f"challenger MAE < persistence MAE and (no champion or challenger MAE <= champion MAE x (1 - {margin:g}))"


def decide(evidence: Evidence, margin: float) -> Decision:
    """Promote when the challenger beats persistence and beats the champion's MAE by the relative `margin`."""
    if not 0 <= margin < 1:
        raise ValueError(f"margin must be in [0, 1), got {margin}")
    rule = rule_text(margin)
    e = evidence
    no_champion_outcome = REJECTED if e.champion_version is None else KEPT
    if e.champion_version is not None and e.champion_version == e.challenger_version:
        return Decision(KEPT, rule, f"version {e.challenger_version} already is the champion")
    if not _finite(e.challenger_mae):
        return Decision(no_champion_outcome, rule, "the challenger produced no scorable forecast on the holdout")
    if not _finite(e.persistence_mae) or e.challenger_mae >= e.persistence_mae:
        return Decision(
            no_champion_outcome,
            rule,
            f"challenger MAE {e.challenger_mae:.4g} does not beat persistence {e.persistence_mae:.4g}",
        )
    if e.champion_version is None:
        return Decision(
            PROMOTED,
            rule,
            f"no champion yet; challenger MAE {e.challenger_mae:.4g} beats persistence {e.persistence_mae:.4g}",
        )
    if not _finite(e.champion_mae):
        return Decision(PROMOTED, rule, "the champion produced no scorable forecast on the holdout")
    bar = e.champion_mae * (1 - margin)
    if e.challenger_mae <= bar:
        return Decision(
            PROMOTED,
            rule,
            f"challenger MAE {e.challenger_mae:.4g} <= {bar:.4g} (champion {e.champion_mae:.4g} less {margin:.1%})",
        )
    return Decision(
        KEPT,
        rule,
        f"challenger MAE {e.challenger_mae:.4g} misses the bar {bar:.4g} "
        f"(champion {e.champion_mae:.4g} less {margin:.1%})",
    )


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)
