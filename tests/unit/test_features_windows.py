"""Sliding windows and targets: positions, gaps, machine boundaries, too little history."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from powercast.errors import InsufficientHistory, PowercastError
from powercast.features.derive import derive_features
from powercast.features.spec import FeatureSpec
from powercast.features.windows import issue_index, sliding_windows, targets, training_index

T0 = pd.Timestamp("2026-03-02 00:00", tz="UTC")
SPEC = FeatureSpec(history=4, horizon=3, lags=(1, 2, 3, 4), windows=(2,), deltas=(1,), stuck_window=2)


def _frame() -> pd.DataFrame:
    """M-A: power 0..19 over 20 minutes with minute 12 missing; M-B: power 100..109 starting 5 minutes later."""
    a = pd.DataFrame(
        {
            "machine_id": "M-A",
            "ts": T0 + pd.to_timedelta(range(20), unit="min"),
            "power": np.arange(20.0),
            "temperature": np.arange(20.0) / 10,
        }
    )
    a = a[a["ts"] != T0 + pd.Timedelta(minutes=12)]
    b = pd.DataFrame(
        {
            "machine_id": "M-B",
            "ts": T0 + pd.to_timedelta(range(5, 15), unit="min"),
            "power": 100 + np.arange(10.0),
            "temperature": 1.0,
        }
    )
    return pd.concat([b, a], ignore_index=True)  # unsorted on purpose


def test_default_issue_index_is_the_minute_after_each_machines_last_bucket():
    index = issue_index(_frame())
    assert index.to_dict("list") == {
        "machine_id": ["M-A", "M-B"],
        "issue_ts": [T0 + pd.Timedelta(minutes=20), T0 + pd.Timedelta(minutes=15)],
    }


def test_issue_times_apply_to_every_machine_and_must_be_minute_boundaries():
    index = issue_index(_frame(), [T0 + pd.Timedelta(minutes=9), T0 + pd.Timedelta(minutes=10)])
    assert len(index) == 4 and index["machine_id"].tolist() == ["M-A", "M-A", "M-B", "M-B"]
    with pytest.raises(PowercastError, match="minute boundaries"):
        issue_index(_frame(), [T0 + pd.Timedelta(seconds=30)])


def test_windows_hold_the_buckets_before_the_issue_and_targets_the_ones_after():
    frame = _frame()
    index = pd.DataFrame(
        {"machine_id": ["M-A", "M-A", "M-B"], "issue_ts": T0 + pd.to_timedelta([8, 14, 12], unit="min")}
    )
    X, channels = sliding_windows(frame, SPEC, index)
    assert channels == ["power", "temperature"] and X.shape == (3, 4, 2)
    np.testing.assert_array_equal(X[0, :, 0], [4, 5, 6, 7])
    np.testing.assert_array_equal(X[1, :, 0], [10, 11, np.nan, 13])  # the missing minute stays NaN
    np.testing.assert_array_equal(X[2, :, 0], [103, 104, 105, 106])
    np.testing.assert_allclose(X[0, :, 1], [0.4, 0.5, 0.6, 0.7])
    y = targets(frame, index, SPEC.horizon)
    np.testing.assert_array_equal(y, [[8, 9, 10], [14, 15, 16], [107, 108, 109]])


def test_targets_past_the_end_of_a_machine_are_nan():
    index = pd.DataFrame({"machine_id": ["M-B"], "issue_ts": [T0 + pd.Timedelta(minutes=14)]})
    np.testing.assert_array_equal(targets(_frame(), index, 3), [[109, np.nan, np.nan]])


def test_windows_agree_with_the_derived_lags():
    frame = _frame()
    features = derive_features(frame, SPEC)
    index = training_index(frame, SPEC, complete=False)
    X, _ = sliding_windows(frame, SPEC, index, channels=["power"])
    rows = features.set_index(["machine_id", "ts"]).loc[
        list(zip(index["machine_id"], index["issue_ts"] - pd.Timedelta(minutes=1)))
    ]
    for k in SPEC.lags:
        np.testing.assert_array_equal(X[:, -k, 0], rows[f"power_lag_{k}"].to_numpy())


def test_too_little_history_names_the_machine():
    index = pd.DataFrame({"machine_id": ["M-A", "M-B"], "issue_ts": [T0 + pd.Timedelta(minutes=8)] * 2})
    with pytest.raises(InsufficientHistory, match="machine M-B has 3 minute") as info:
        sliding_windows(_frame(), SPEC, index)
    assert info.value.machine_id == "M-B" and info.value.need == SPEC.history
    X, _ = sliding_windows(_frame(), SPEC, index, strict=False)
    np.testing.assert_array_equal(X[1, :, 0], [np.nan, 100, 101, 102])


def test_an_unknown_machine_is_a_clear_error():
    index = pd.DataFrame({"machine_id": ["M-Z"], "issue_ts": [T0 + pd.Timedelta(minutes=8)]})
    with pytest.raises(InsufficientHistory, match="M-Z"):
        targets(_frame(), index, 3)


def test_training_index_keeps_only_full_windows_with_complete_targets():
    index = training_index(_frame(), SPEC)
    by_machine = index.groupby("machine_id")["issue_ts"].apply(lambda s: ((s - T0) // pd.Timedelta(minutes=1)).tolist())
    # M-A: issues 4..17 have history and horizon inside; 10, 11, 12 would target the missing minute 12
    assert by_machine["M-A"] == [4, 5, 6, 7, 8, 9, 13, 14, 15, 16, 17]
    assert by_machine["M-B"] == list(range(9, 13))
    assert len(training_index(_frame(), SPEC, stride=2, complete=False)) == 7 + 2


def test_many_windows_are_gathered_at_once():
    rng = np.random.default_rng(0)
    n = 3000
    frame = pd.DataFrame(
        {
            "machine_id": np.repeat(["M-1", "M-2"], n),
            "ts": np.tile(T0 + pd.to_timedelta(range(n), unit="min"), 2),
            "power": rng.normal(size=2 * n),
        }
    )
    spec = FeatureSpec(history=60)
    index = training_index(frame, spec)
    X, _ = sliding_windows(frame, spec, index, dtype=np.float32)
    y = targets(frame, index, spec.horizon)
    assert X.shape == (len(index), 60, 1) and X.dtype == np.float32 and y.shape == (len(index), 15)
    i = 1234
    m, issue = index.iloc[i]
    rows = frame[(frame["machine_id"] == m)].set_index("ts")["power"]
    np.testing.assert_allclose(
        X[i, :, 0], rows[issue - pd.Timedelta(minutes=60) : issue - pd.Timedelta(minutes=1)], rtol=1e-6
    )
    np.testing.assert_array_equal(y[i], rows[issue : issue + pd.Timedelta(minutes=14)])
