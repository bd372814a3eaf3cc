"""The champion/challenger rule, without MLflow or a database."""

import math

import pytest

from powercast.training.decision import KEPT, PROMOTED, REJECTED, Evidence, decide


@pytest.mark.parametrize(
    "evidence, margin, outcome",
    [
        # no champion: beating persistence is enough
        (Evidence("1", 90.0, 100.0), 0.02, PROMOTED),
        (Evidence("1", 100.0, 100.0), 0.02, REJECTED),
        (Evidence("1", 120.0, 100.0), 0.0, REJECTED),
        # champion present: must beat it by the margin and beat persistence
        (Evidence("2", 90.0, 100.0, "1", 95.0), 0.02, PROMOTED),  # 90 <= 95 * 0.98 = 93.1
        (Evidence("2", 94.0, 100.0, "1", 95.0), 0.02, KEPT),  # 94 > 93.1
        (Evidence("2", 94.0, 100.0, "1", 95.0), 0.0, PROMOTED),
        (Evidence("2", 93.1, 100.0, "1", 95.0), 0.02, PROMOTED),  # on the bar counts
        (Evidence("2", 80.0, 79.0, "1", 95.0), 0.02, KEPT),  # beats champion, not persistence
        (Evidence("2", math.nan, 100.0, "1", 95.0), 0.02, KEPT),
        (Evidence("2", 90.0, 100.0, "1", math.nan), 0.02, PROMOTED),  # champion cannot score any more
        (Evidence("1", 50.0, 100.0, "1", 50.0), 0.0, KEPT),  # already champion
    ],
)
def test_decide(evidence, margin, outcome):
    decision = decide(evidence, margin)
    assert decision.outcome == outcome
    assert decision.reason and f"{margin:g}" in decision.rule
    assert decision.promote == (outcome == PROMOTED)


def test_reason_names_the_numbers():
    decision = decide(Evidence("2", 94.0, 100.0, "1", 95.0), 0.02)
    assert "94" in decision.reason and "93.1" in decision.reason


@pytest.mark.parametrize("margin", [-0.1, 1.0, 2.0])
def test_margin_out_of_range_is_refused(margin):
    with pytest.raises(ValueError):
        decide(Evidence("1", 90.0, 100.0), margin)
