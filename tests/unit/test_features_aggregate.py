"""minute_frame_from_readings: statistics per minute, gaps, coarse meters, absent and unknown sensors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from powercast.errors import PowercastError
from powercast.features.aggregate import (
    GROUP_COLUMNS,
    minute_frame_from_groups,
    minute_frame_from_readings,
    reading_groups,
)

T0 = pd.Timestamp("2026-03-02 08:00", tz="UTC")


def _long(machine: str, sensor: str, seconds, values) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "machine_id": machine,
            "sensor": sensor,
            "ts": T0 + pd.to_timedelta(list(seconds), unit="s"),
            "value": list(values),
        }
    )


def test_ten_second_readings_give_the_minute_statistics():
    values = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 1.0, 2.0]
    frame = minute_frame_from_readings(_long("M-1", "power", range(0, 80, 10), values))
    assert frame["ts"].tolist() == [T0, T0 + pd.Timedelta(minutes=1)]
    first = frame.iloc[0]
    assert (first["power"], first["power_min"], first["power_max"], first["power_last"], first["power_count"]) == (
        35.0,
        10.0,
        60.0,
        60.0,
        6,
    )
    assert first["power_std"] == pytest.approx(np.std(values[:6], ddof=1))
    assert frame.iloc[1]["power"] == 1.5 and frame.iloc[1]["power_count"] == 2


def test_last_is_the_latest_reading_whatever_the_row_order():
    readings = _long("M-1", "power", [50, 5, 30], [3.0, 1.0, 2.0])
    assert minute_frame_from_readings(readings)["power_last"].tolist() == [3.0]


def test_missing_minutes_are_nan_rows_with_count_zero():
    readings = _long("M-1", "power", [0, 10, 250, 260], [1, 2, 3, 4])
    frame = minute_frame_from_readings(readings)
    assert len(frame) == 5
    assert frame["power"].isna().tolist() == [False, True, True, True, False]
    assert frame["power_count"].tolist() == [2, 0, 0, 0, 2]


def test_a_ten_minute_meter_is_held_until_its_next_reading():
    readings = _long("M-1", "power", [0, 600, 1200, 3000], [100.0, 200.0, 300.0, 400.0])
    frame = minute_frame_from_readings(readings).set_index("ts")
    minute = lambda m: T0 + pd.Timedelta(minutes=m)  # noqa: E731
    assert frame.loc[minute(0) : minute(9), "power"].tolist() == [100.0] * 10
    assert frame.loc[minute(10) : minute(19), "power"].tolist() == [200.0] * 10
    assert frame.loc[minute(1), "power_count"] == 0 and frame.loc[minute(10), "power_count"] == 1
    assert np.isnan(frame.loc[minute(1), "power_std"])
    held_until = frame.loc[minute(20) : minute(49), "power"]
    assert held_until.notna().sum() == 10  # minutes 20-29 held, then a real gap until minute 50
    assert frame.loc[minute(50), "power"] == 400.0


def test_a_one_minute_meter_is_not_held():
    readings = _long("M-1", "power", [0, 60, 120, 300], [1.0, 2.0, 3.0, 4.0])
    frame = minute_frame_from_readings(readings)
    assert frame["power"].isna().tolist() == [False, False, False, True, True, False]


def test_absent_sensors_are_absent_and_unknown_ones_ignored():
    readings = pd.concat(
        [
            _long("M-1", "power", [0, 10], [1.0, 2.0]),
            _long("M-1", "humidity", [0], [50.0]),
            _long("M-1", "temperature", [0], [40.0]),
        ]
    )
    frame = minute_frame_from_readings(readings)
    assert [c for c in frame.columns if c not in ("machine_id", "ts")] == [
        "power",
        "power_min",
        "power_max",
        "power_std",
        "power_last",
        "power_count",
        "temperature",
        "temperature_min",
        "temperature_max",
        "temperature_std",
        "temperature_last",
        "temperature_count",
    ]


def test_machines_get_their_own_grids_and_attributes():
    readings = pd.concat([_long("M-2", "power", [120, 180], [5.0, 6.0]), _long("M-1", "power", [0, 240], [1.0, 2.0])])
    machines = pd.DataFrame(
        {
            "machine_id": ["M-1", "M-2"],
            "machine_type": ["press", "oven"],
            "rated_power_w": [1000.0, 2000.0],
            "site": ["a", "b"],
        }
    )
    frame = minute_frame_from_readings(readings, machines=machines)
    assert frame.groupby("machine_id").size().to_dict() == {"M-1": 5, "M-2": 2}
    assert frame.groupby("machine_id")["machine_type"].first().to_dict() == {"M-1": "press", "M-2": "oven"}
    assert "site" not in frame.columns


def test_duplicated_readings_count_once_and_bad_input_is_refused():
    readings = _long("M-1", "power", [0, 0, 10], [1.0, 99.0, 3.0])
    frame = minute_frame_from_readings(readings)
    assert frame["power_count"].tolist() == [2] and frame["power"].tolist() == [2.0]
    with pytest.raises(PowercastError, match="lack column"):
        minute_frame_from_readings(readings.drop(columns=["sensor"]))
    with pytest.raises(PowercastError, match="no readings"):
        minute_frame_from_readings(readings.iloc[:0])


def test_a_ninety_second_meter_is_held_one_bucket():
    readings = _long("M-1", "power", range(0, 900, 90), np.arange(10.0))
    frame = minute_frame_from_readings(readings)
    assert frame["power"].notna().all() and (frame["power_count"] == 0).sum() == 4  # buckets 2, 5, 8, 11


def test_the_hold_also_applies_to_a_frame_without_readings():
    from powercast.features.aggregate import hold_coarse_sensors

    held = minute_frame_from_readings(_long("M-1", "power", [0, 600, 1200], [1.0, 2.0, 3.0]))
    raw = held.copy()
    raw.loc[raw["power_count"] == 0, ["power", "power_min", "power_max", "power_last"]] = np.nan
    pd.testing.assert_frame_equal(hold_coarse_sensors(raw), held)


def test_groups_spliced_from_two_reads_give_the_frame_of_all_readings():
    """reading_groups of two reads, concatenated in any order, build the same minute frame as all readings at
    once: gaps, a coarse meter held across the split, a machine only in the second read, attributes."""
    rng = np.random.default_rng(5)
    readings = pd.concat(
        [
            _long("M-1", "power", range(0, 1800, 10), rng.normal(500, 50, 180)),
            _long("M-1", "temperature", range(0, 1800, 300), rng.normal(60, 5, 6)),  # a 5-minute meter
            _long("M-2", "power", [*range(0, 300, 10), *range(900, 1800, 10)], rng.normal(90, 9, 120)),  # a gap
            _long("M-3", "vibration", range(1200, 1800, 20), rng.normal(2, 0.1, 30)),
        ],
        ignore_index=True,
    )
    machines = pd.DataFrame({"machine_id": ["M-1", "M-2", "M-3"], "rated_power_w": [1000.0, np.nan, 250.0]})
    split = T0 + pd.Timedelta(minutes=17)
    groups = pd.concat(
        [reading_groups(readings[readings["ts"] >= split]), reading_groups(readings[readings["ts"] < split])]
    ).sample(frac=1, random_state=3)
    pd.testing.assert_frame_equal(
        minute_frame_from_groups(groups, machines),
        minute_frame_from_readings(readings, machines=machines),
        check_exact=True,
    )
    assert list(reading_groups(readings).columns) == GROUP_COLUMNS


def test_no_groups_is_a_clear_error():
    with pytest.raises(PowercastError, match="no readings"):
        minute_frame_from_groups(pd.DataFrame(columns=GROUP_COLUMNS))
