"""load_readings_file: CSV and Parquet, typed columns, clear errors."""

from __future__ import annotations

import pandas as pd
import pytest

from powercast.errors import PowercastError
from powercast.features.io import load_readings_file

CSV = """machine_id,sensor,ts,value
M-1,power,2026-03-02T08:00:00Z,100.5
M-1,Power ,2026-03-02 08:10:00,200
M-1,temperature,2026-03-02T09:00:00+01:00,40
M-1,power,2026-03-02T08:20:00Z,
"""


def test_csv_is_typed_and_naive_times_are_utc(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text(CSV)
    readings = load_readings_file(path)
    assert len(readings) == 3  # the empty value is a missing reading
    assert readings["sensor"].tolist() == ["power", "power", "temperature"]
    assert readings["value"].dtype == float and str(readings["ts"].dtype) == "datetime64[ns, UTC]"
    assert readings["ts"].tolist() == [
        pd.Timestamp("2026-03-02 08:00", tz="UTC"),
        pd.Timestamp("2026-03-02 08:10", tz="UTC"),
        pd.Timestamp("2026-03-02 08:00", tz="UTC"),
    ]


def test_parquet_round_trip(tmp_path):
    frame = pd.DataFrame(
        {
            "machine_id": ["M-1", "M-2"],
            "sensor": ["power", "power"],
            "ts": pd.to_datetime(["2026-03-02 08:00", "2026-03-02 08:01"], utc=True),
            "value": [1.0, 2.0],
            "unit": ["W", "W"],
        }
    )
    frame.to_parquet(tmp_path / "h.parquet")
    loaded = load_readings_file(tmp_path / "h.parquet")
    assert loaded.columns.tolist() == ["machine_id", "sensor", "ts", "value"]
    assert loaded["machine_id"].tolist() == ["M-1", "M-2"]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("a.csv", "machine_id,ts,value\nM-1,2026-03-02T08:00Z,1\n", r"lacks column\(s\) \['sensor'\]"),
        (
            "a.csv",
            "machine_id,sensor,ts,value\nM-1,power,2026-03-02T08:00Z,abc\n",
            "row 1: value 'abc' is not a number",
        ),
        ("a.csv", "machine_id,sensor,ts,value\nM-1,power,yesterday,1\n", "row 1: ts 'yesterday' is not a timestamp"),
        ("a.csv", "machine_id,sensor,ts,value\nM-1,temperature,2026-03-02T08:00Z,1\n", "has no power readings"),
        ("a.json", "{}", "unsupported file type"),
        ("a.parquet", "not parquet", "cannot read a.parquet"),
    ],
)
def test_bad_files_get_one_clear_error(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(PowercastError, match=message):
        load_readings_file(path)


def test_a_missing_file_says_so(tmp_path):
    with pytest.raises(PowercastError, match="not found"):
        load_readings_file(tmp_path / "nope.csv")
