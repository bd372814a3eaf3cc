"""Promote and roll back: the recorded champion/challenger decisions (`powercast.training.promotion`)."""

from __future__ import annotations

from powercast.training.promotion import PromotionResult
from powercast.training.promotion import promote as promote_challenger
from powercast.training.promotion import rollback as rollback_champion

__all__ = ["PromotionResult", "promote_challenger", "rollback_champion"]
