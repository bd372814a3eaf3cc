"""FeatureSpec: round trip, hash, validation, lookback."""

from __future__ import annotations

import json

import pytest

from powercast.features.spec import FeatureSpec


def test_round_trip_through_json_keeps_the_spec_and_its_hash():
    spec = FeatureSpec(lags=(1, 1440), windows=(5, 30), history=90)
    again = FeatureSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again == spec and again.hash() == spec.hash()
    assert FeatureSpec().hash() != spec.hash()


def test_defaults_match_the_forecast_contract():
    spec = FeatureSpec()
    assert (spec.target, spec.history, spec.horizon) == ("power", 60, 15)


def test_lookback_covers_the_longest_lag_window_and_delta():
    assert FeatureSpec(lags=(1, 90), windows=(5,), deltas=(1,), sensor_windows=(5,)).lookback == 90
    assert FeatureSpec(lags=(1,), windows=(5,), deltas=(30,), sensor_windows=(5,)).lookback == 31
    assert FeatureSpec(lags=(1,), windows=(5,), deltas=(1,), history=120).min_history == 120


@pytest.mark.parametrize(
    "kwargs",
    [
        {"lags": (0,)},
        {"windows": (2.5,)},
        {"history": 0},
        {"stuck_window": 1},
        {"shift_starts": (14, 6)},
        {"shift_starts": (25,)},
    ],
)
def test_invalid_specs_are_refused(kwargs):
    with pytest.raises(ValueError):
        FeatureSpec(**kwargs)


def test_unknown_fields_are_refused():
    with pytest.raises(ValueError, match="unknown FeatureSpec fields"):
        FeatureSpec.from_dict({"lagz": [1]})
