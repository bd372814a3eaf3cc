"""`powercast up`'s first models: what it says when the first challenger does not become champion."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from powercast.commands import stack
from powercast.stack.system import UpOptions
from powercast.training.promotion_log import PromotionRecord


def _record(outcome: str, new_champion: str | None) -> PromotionRecord:
    return PromotionRecord(
        action="promote",
        triggered_by="powercast up",
        champion_version=None,
        challenger_version="1",
        champion_mae=None,
        challenger_mae=4572.0,
        persistence_mae=1717.0,
        margin=0.02,
        rule="rule",
        outcome=outcome,
        reason="challenger MAE 4572 does not beat persistence 1717" if new_champion is None else "beats persistence",
        new_champion_version=new_champion,
    )


@pytest.fixture
def first_models(monkeypatch):
    from powercast.jobs import features, promotion, training

    monkeypatch.setattr(features, "snapshot_features", lambda s: SimpleNamespace(snapshot_id=1, row_count=10))
    run = SimpleNamespace(
        metrics={"xgb": {"ratio_to_persistence": 0.8}, "persistence": {"ratio_to_persistence": 1.0}},
        best="xgb",
        run_id="r1",
        model_version="1",
    )
    monkeypatch.setattr(training, "train_and_register", lambda s, **kwargs: run)

    def run_with(record: PromotionRecord) -> None:
        monkeypatch.setattr(promotion, "promote_challenger", lambda s, **kwargs: SimpleNamespace(record=record))
        stack._first_models(None, UpOptions())

    return run_with


def test_a_rejected_first_challenger_says_the_service_has_no_model_and_what_to_do(first_models, capsys):
    first_models(_record("rejected", None))
    out = capsys.readouterr().out
    assert "promotion: rejected: challenger MAE 4572 does not beat persistence 1717" in out
    assert "has no model" in out and "--history-days" in out


def test_a_promoted_first_challenger_adds_no_warning(first_models, capsys):
    first_models(_record("promoted", "1"))
    out = capsys.readouterr().out
    assert "promotion: promoted" in out and "has no model" not in out
