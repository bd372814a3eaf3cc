"""Too little history and stuck sensors get clear messages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from powercast.errors import InsufficientHistory
from powercast.features.quality import check_history, quality_report
from powercast.features.spec import FeatureSpec

T0 = pd.Timestamp("2026-03-02 00:00", tz="UTC")


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    long = pd.DataFrame(
        {
            "machine_id": "M-LONG",
            "ts": T0 + pd.to_timedelta(range(120), unit="min"),
            "power": rng.normal(1000, 10, 120),
            "temperature": rng.normal(50, 1, 120),
        }
    )
    long.loc[50:79, "temperature"] = 51.5  # flat-lined for 30 minutes
    short = pd.DataFrame(
        {
            "machine_id": "M-NEW",
            "ts": T0 + pd.to_timedelta(range(20), unit="min"),
            "power": rng.normal(500, 10, 20),
            "temperature": rng.normal(40, 1, 20),
        }
    )
    return pd.concat([long, short], ignore_index=True)


def test_a_machine_with_too_little_history_is_named():
    spec = FeatureSpec()
    with pytest.raises(InsufficientHistory) as info:
        check_history(_frame(), spec)
    assert (info.value.machine_id, info.value.have, info.value.need) == ("M-NEW", 20, spec.min_history)
    assert "machine M-NEW has 20 minute(s) of history, 60 are needed" in str(info.value)
    check_history(_frame(), spec, need=20)


def test_quality_report_counts_stuck_minutes_and_history():
    report = quality_report(_frame(), FeatureSpec(stuck_window=10)).set_index("machine_id")
    assert report.loc["M-LONG", "temperature_stuck_minutes"] == 30 - 10 + 1
    assert report.loc["M-LONG", "power_stuck_minutes"] == 0
    assert report["enough_history"].to_dict() == {"M-LONG": True, "M-NEW": False}
    assert report.loc["M-LONG", "missing_share"] == 0
