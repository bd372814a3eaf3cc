"""Derived features: values on small hand-built frames, no leakage, and batch == incremental (parametrized)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from powercast.errors import PowercastError
from powercast.features.derive import (
    TIME_COLUMNS,
    IncrementalFeatures,
    derive_features,
    feature_columns,
    machine_type_code,
    time_features,
)
from powercast.features.spec import FeatureSpec

T0 = pd.Timestamp("2026-03-02 05:00", tz="UTC")  # a Monday
SPECS = {
    "default": FeatureSpec(),
    "short": FeatureSpec(
        lags=(1, 2), windows=(3,), deltas=(1,), history=5, sensors=("temperature",), sensor_windows=(2,), stuck_window=3
    ),
    "long": FeatureSpec(lags=(1, 90), windows=(7, 120), deltas=(2, 30), history=30, sensor_windows=(45,)),
}


def _frame(minutes: int = 240, machines=("M-1", "M-2"), seed: int = 0, gaps: bool = True) -> pd.DataFrame:
    """A minute frame with power, temperature, attributes; machines of different lengths, a few gaps."""
    rng = np.random.default_rng(seed)
    parts = []
    for i, machine in enumerate(machines):
        n = minutes - 37 * i
        ts = T0 + pd.to_timedelta(np.arange(n) + 11 * i, unit="min")
        power = 1000 + 300 * np.sin(np.arange(n) / 17) + rng.normal(0, 20, n)
        part = pd.DataFrame(
            {
                "machine_id": machine,
                "ts": ts,
                "power": power,
                "power_std": rng.uniform(1, 5, n),
                "power_count": 6,
                "temperature": 50 + rng.normal(0, 1, n),
                "machine_type": "press" if i % 2 == 0 else "oven",
                "rated_power_w": 2000.0 + 500 * i,
            }
        )
        if gaps:
            part.loc[rng.choice(n, size=n // 10, replace=False), ["power", "power_std", "temperature"]] = np.nan
            part = part.drop(index=part.index[n // 3 : n // 3 + 4])  # four buckets missing entirely
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def test_lags_windows_and_deltas_on_a_hand_frame():
    frame = pd.DataFrame(
        {
            "machine_id": "M",
            "ts": T0 + pd.to_timedelta(range(6), unit="min"),
            "power": [1.0, 2.0, np.nan, 4.0, 8.0, 16.0],
        }
    )
    spec = FeatureSpec(lags=(1, 3), windows=(3,), deltas=(2,), sensors=(), stuck_window=2)
    out = derive_features(frame, spec)
    np.testing.assert_array_equal(out["power_lag_1"], [1, 2, np.nan, 4, 8, 16])
    np.testing.assert_array_equal(out["power_lag_3"], [np.nan, np.nan, 1, 2, np.nan, 4])
    np.testing.assert_allclose(out["power_ma_3"], [np.nan, np.nan, 1.5, 3, 6, 28 / 3])
    np.testing.assert_allclose(
        out["power_sd_3"],
        [
            np.nan,
            np.nan,
            np.std([1, 2], ddof=1),
            np.std([2, 4], ddof=1),
            np.std([4, 8], ddof=1),
            np.std([4, 8, 16], ddof=1),
        ],
    )
    np.testing.assert_array_equal(out["power_delta_2"], [np.nan, np.nan, np.nan, 2, np.nan, 12])
    np.testing.assert_array_equal(out["power_missing"], [0, 0, 1, 0, 0, 0])


def test_missing_buckets_become_rows_and_windows_stay_within_a_machine():
    frame = _frame(minutes=120)
    out = derive_features(frame, SPECS["short"])
    for machine, rows in out.groupby("machine_id"):
        assert (rows["ts"].diff().dropna() == pd.Timedelta(minutes=1)).all()
        first = rows.iloc[0]
        assert np.isnan(first["power_lag_2"]) and np.isnan(first["power_ma_3"]), machine
    assert out["power_count"].dtype == np.int64 and (out.loc[out["power"].isna(), "power_count"] >= 0).all()


def test_time_features_describe_the_issue_minute():
    spec = FeatureSpec(shift_starts=(6, 14, 22))
    instants = pd.DatetimeIndex(
        ["2026-03-02 05:59", "2026-03-02 06:00", "2026-03-02 14:00", "2026-03-02 22:00", "2026-03-08 23:59"], tz="UTC"
    )
    t = time_features(instants, spec)
    assert t["shift"].tolist() == [2, 0, 1, 2, 2]  # night runs 22:00-06:00 across midnight
    assert t["minute_of_day"].tolist() == [359, 360, 840, 1320, 1439]
    assert t["day_of_week"].tolist() == [0, 0, 0, 0, 6]
    out = derive_features(_frame(minutes=5, machines=("M-1",), gaps=False), spec)
    assert out["minute_of_day"].tolist() == [301, 302, 303, 304, 305]  # the bucket at 05:00 issues at 05:01
    assert set(TIME_COLUMNS) <= set(out.columns)


def test_machine_attributes_become_stable_numbers():
    out = derive_features(_frame(minutes=60, gaps=False), SPECS["short"])
    codes = out.groupby("machine_id")["machine_type_code"].unique()
    assert codes["M-1"].tolist() == [machine_type_code("press")]
    assert codes["M-2"].tolist() == [machine_type_code("oven")]
    assert machine_type_code("press") == machine_type_code("press") != machine_type_code("oven")
    np.testing.assert_allclose(out["power_load"], out["power"] / out["rated_power_w"])


def test_a_flat_lined_sensor_is_flagged():
    frame = _frame(minutes=40, machines=("M-1",), gaps=False)
    frame.loc[20:29, "temperature"] = 48.25
    spec = FeatureSpec(stuck_window=5)
    out = derive_features(frame, spec)
    assert out["temperature_stuck"].tolist() == [0.0] * 24 + [1.0] * 6 + [0.0] * 10
    assert out["power_stuck"].sum() == 0
    frame.loc[5:19, "power"] = 0.0  # switched off: flat, but real
    assert derive_features(frame, spec)["power_stuck"].sum() == 0


def test_feature_columns_are_numeric_and_exclude_the_target_itself():
    spec = SPECS["default"]
    out = derive_features(_frame(), spec)
    columns = feature_columns(spec, out)
    assert "power" not in columns and "machine_id" not in columns and "ts" not in columns
    assert {"power_lag_1", "power_ma_60", "temperature_ma_15", "shift", "machine_type_code"} <= set(columns)
    assert all(pd.api.types.is_numeric_dtype(out[c]) for c in columns)
    no_temperature = derive_features(_frame().drop(columns=["temperature"]), spec)
    assert not [c for c in feature_columns(spec, no_temperature) if c.startswith("temperature")]


@pytest.mark.parametrize("spec", SPECS.values(), ids=SPECS.keys())
def test_changing_the_future_never_changes_earlier_rows(spec):
    frame = _frame()
    base = derive_features(frame, spec)
    cut = T0 + pd.Timedelta(minutes=150)
    future = frame["ts"] >= cut
    changed = frame.copy()
    rng = np.random.default_rng(5)
    changed.loc[future, ["power", "temperature"]] = rng.normal(0, 1e4, (future.sum(), 2))
    after = derive_features(changed, spec)
    early = base["ts"] < cut
    pd.testing.assert_frame_equal(after[early], base[early], check_exact=True)
    assert not after.loc[~early, "power_lag_1"].equals(base.loc[~early, "power_lag_1"])  # the change did land


def _chunks(frame: pd.DataFrame, sizes: list[int]) -> list[pd.DataFrame]:
    minutes = ((frame["ts"] - T0) // pd.Timedelta(minutes=1)).to_numpy()
    edges = np.cumsum([0, *sizes])
    pieces = [frame[(minutes >= a) & (minutes < b)] for a, b in zip(edges[:-1], edges[1:])]
    return pieces + [frame[minutes >= edges[-1]]]


@pytest.mark.parametrize("spec", SPECS.values(), ids=SPECS.keys())
@pytest.mark.parametrize(
    "sizes", [[1] * 15 + [45, 1, 1, 90], [97, 3, 50], [250]], ids=["minute-by-minute", "uneven", "one"]
)
def test_incremental_path_equals_batch(spec, sizes):
    frame = _frame(seed=3)
    batch = derive_features(frame, spec)
    live = IncrementalFeatures(spec)
    emitted = [live.update(chunk) for chunk in _chunks(frame, sizes) if len(chunk)]
    incremental = (
        pd.concat(emitted)
        .drop_duplicates(["machine_id", "ts"], keep="last")
        .sort_values(["machine_id", "ts"])
        .reset_index(drop=True)
    )
    pd.testing.assert_frame_equal(incremental[batch.columns], batch, check_exact=True)


@pytest.mark.parametrize("spec", SPECS.values(), ids=SPECS.keys())
def test_late_revision_recomputes_the_rows_it_affects(spec):
    frame = _frame(seed=4, gaps=False)
    live = IncrementalFeatures(spec, revision=10)
    live.update(frame[frame["ts"] < T0 + pd.Timedelta(minutes=200)])
    revised = frame.copy()
    minute = T0 + pd.Timedelta(minutes=193)
    revised.loc[(revised["machine_id"] == "M-1") & (revised["ts"] == minute), "power"] = 5000.0
    out = live.update(revised[(revised["machine_id"] == "M-1") & (revised["ts"] == minute)])
    batch = derive_features(revised[revised["ts"] < T0 + pd.Timedelta(minutes=200)], spec)
    expected = batch[(batch["machine_id"] == "M-1") & (batch["ts"] >= minute)].reset_index(drop=True)
    pd.testing.assert_frame_equal(out[batch.columns], expected, check_exact=True)


def test_a_revision_older_than_the_buffer_is_refused():
    spec = SPECS["short"]
    frame = _frame(seed=4, gaps=False, machines=("M-1",))
    live = IncrementalFeatures(spec, revision=2)
    live.update(frame)
    with pytest.raises(PowercastError, match="older than the live feature buffer"):
        live.update(frame.iloc[[10]])


@settings(max_examples=10, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cuts=st.lists(st.integers(min_value=1, max_value=239), max_size=8, unique=True), seed=st.integers(0, 1000))
def test_any_split_of_the_stream_gives_the_batch_features(cuts, seed):
    spec = SPECS["short"]
    frame = _frame(minutes=120, seed=seed)
    batch = derive_features(frame, spec)
    edges = sorted(cuts)
    sizes = [b - a for a, b in zip([0, *edges[:-1]], edges)] if edges else []
    live = IncrementalFeatures(spec)
    emitted = [live.update(chunk) for chunk in _chunks(frame, sizes) if len(chunk)]
    incremental = (
        pd.concat(emitted)
        .drop_duplicates(["machine_id", "ts"], keep="last")
        .sort_values(["machine_id", "ts"])
        .reset_index(drop=True)
    )
    pd.testing.assert_frame_equal(incremental[batch.columns], batch, check_exact=True)
