"""Forecasters by name: `make_forecaster("xgb", n_estimators=100)`."""

from __future__ import annotations

from powercast.errors import PowercastError
from powercast.models.base import Forecaster


def _classes() -> dict:
    # Imported here so that naming a baseline does not import torch or xgboost.
    from powercast.models.baselines import MovingAverage, Persistence, SeasonalNaive, WeeklySeasonalNaive

    classes: dict = {c.name: c for c in (Persistence, SeasonalNaive, WeeklySeasonalNaive, MovingAverage)}
    classes["xgb"] = _lazy("powercast.models.xgb", "XGBoostForecaster")
    classes["lstm"] = _lazy("powercast.models.lstm", "LSTMForecaster")
    classes["ensemble"] = _lazy("powercast.models.ensemble", "EnsembleForecaster")
    return classes


def _lazy(module: str, attribute: str):
    def make(**params):
        import importlib

        return getattr(importlib.import_module(module), attribute)(**params)

    return make


FORECASTER_NAMES = (
    "persistence",
    "seasonal_naive",
    "seasonal_naive_week",
    "moving_average",
    "xgb",
    "lstm",
    "ensemble",
)
BASELINE_NAMES = ("persistence", "seasonal_naive", "seasonal_naive_week", "moving_average")


def make_forecaster(name: str, **params) -> Forecaster:
    """A new, unfitted forecaster of the given name with the given hyper-parameters."""
    classes = _classes()
    if name not in classes:
        raise PowercastError(f"unknown model {name!r}", f"choose from {', '.join(FORECASTER_NAMES)}")
    try:
        return classes[name](**params)
    except TypeError as exc:
        raise PowercastError(f"bad parameters for model {name!r}: {exc}") from exc


def parse_model_names(text: str) -> list[str]:
    """'xgb, lstm' -> ['xgb', 'lstm'], refusing unknown names with the list of known ones."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in FORECASTER_NAMES]
    if unknown or not names:
        raise PowercastError(f"unknown model(s) {unknown or text!r}", f"choose from {', '.join(FORECASTER_NAMES)}")
    return names
