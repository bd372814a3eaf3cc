"""The learned time-of-week load profile: day classes, slots, leave-one-day-out and unknown machines."""

import numpy as np
import pandas as pd
import pytest

from powercast.features.profile import LoadProfile, day_class
from powercast.features.spec import FeatureSpec
from powercast.models.design import FUTURE_COLUMNS, build_design, fit_profile

TUESDAY = pd.Timestamp("2026-11-03", tz="UTC")


def two_tuesdays(level_first: float, level_second: float) -> pd.DataFrame:
    """Machine A works 08:00-16:00 on two Tuesdays at the given share of its scale; off otherwise."""
    parts = []
    for day, level in ((TUESDAY, level_first), (TUESDAY + pd.Timedelta(days=7), level_second)):
        ts = pd.date_range(day, periods=1440, freq="min")
        working = (ts.hour >= 8) & (ts.hour < 16)
        parts.append(pd.DataFrame({"machine_id": "A", "ts": ts, "power": np.where(working, level * 1000.0, 0.0)}))
    return pd.concat(parts, ignore_index=True)


def test_day_classes_split_monday_midweek_saturday_sunday():
    assert day_class(np.arange(7)).tolist() == [0, 1, 1, 1, 1, 2, 3]


def test_lookup_is_the_mean_relative_load_of_the_slot_and_day_class():
    profile = LoadProfile.fit(two_tuesdays(1.0, 0.5), {"A": 1000.0}, slot_minutes=10)
    wednesday = TUESDAY + pd.Timedelta(days=1)
    at = pd.DatetimeIndex(
        [
            wednesday + pd.Timedelta(hours=10),
            wednesday + pd.Timedelta(hours=20),
            TUESDAY + pd.Timedelta(days=5, hours=10),
        ]
    )  # Wed 10:00, Wed 20:00, Sunday 10:00
    values = profile.lookup(np.array(["A", "A", "A"]), at)
    assert values[0] == pytest.approx(0.75)
    assert values[1] == pytest.approx(0.0)
    assert np.isnan(values[2])  # no Sunday seen


def test_leave_day_out_removes_the_rows_own_day():
    profile = LoadProfile.fit(two_tuesdays(1.0, 0.5), {"A": 1000.0}, slot_minutes=10)
    at = pd.DatetimeIndex([TUESDAY + pd.Timedelta(hours=10), TUESDAY + pd.Timedelta(days=7, hours=10)])
    assert profile.lookup(np.array(["A", "A"]), at, leave_day_out=True) == pytest.approx([0.5, 1.0])
    assert profile.lookup(np.array(["A", "A"]), at) == pytest.approx([0.75, 0.75])
    with pytest.raises(ValueError, match="per-day detail"):
        profile.compact().lookup(np.array(["A"]), at[:1], leave_day_out=True)


def test_unknown_machine_and_missing_power_give_nan_not_errors():
    frame = two_tuesdays(1.0, 1.0)
    frame.loc[frame["ts"].dt.hour == 9, "power"] = np.nan
    profile = LoadProfile.fit(frame, {"A": 1000.0}, slot_minutes=30)
    at = pd.DatetimeIndex([TUESDAY + pd.Timedelta(hours=9), TUESDAY + pd.Timedelta(hours=10)])
    assert np.isnan(profile.lookup(np.array(["A", "A"]), at)[0])
    assert np.isnan(profile.lookup(np.array(["B", "B"]), at)).all()


def test_slot_width_must_divide_the_day():
    with pytest.raises(ValueError, match="whole slots"):
        LoadProfile.fit(two_tuesdays(1.0, 1.0), {"A": 1000.0}, slot_minutes=7)
    with pytest.raises(ValueError, match="profile_slot"):
        FeatureSpec(profile_slot=7)
    assert fit_profile(two_tuesdays(1.0, 1.0), FeatureSpec(profile_slot=0), {"A": 1000.0}) is None


def test_design_future_inputs_announce_the_shift_end_at_each_step():
    frame = two_tuesdays(1.0, 1.0)
    spec = FeatureSpec(profile_slot=10)
    profile = fit_profile(frame, spec, {"A": 1000.0})
    issue = TUESDAY + pd.Timedelta(days=7, hours=15, minutes=55)  # the shift ends at 16:00
    index = pd.DataFrame({"machine_id": ["A"], "issue_ts": [issue]})
    design = build_design(frame, spec, {"A": 1000.0}, index=index, profile=profile)
    assert design.future.shape == (1, spec.horizon, len(FUTURE_COLUMNS))
    ahead = design.future[0, :, 0]
    assert ahead[:5] == pytest.approx(1.0) and ahead[5:] == pytest.approx(0.0)  # 15:55-15:59 on, 16:00 on off
    assert design.future[0, 5:, 1] == pytest.approx(-1.0)  # change since the last observed minute
    assert design.future[0, 5:, 2] == pytest.approx(-1.0)  # gap to the current level (working at 1.0)
