"""The body of POST /forecast: a list of readings or parallel arrays give the same long readings frame."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from powercast.serving.forecast_request import ForecastRequest, readings_frame, utc_timestamps
from tests.mlops.fakes import long_readings


def _rows(readings: pd.DataFrame) -> list[dict]:
    return readings.assign(ts=readings["ts"].map(pd.Timestamp.isoformat)).to_dict(orient="records")


def test_timestamps_match_pandas_to_the_nanosecond():
    rng = np.random.default_rng(0)
    base = datetime(2026, 11, 25, 12, tzinfo=UTC)
    zones = [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30))]
    stamps = [
        (base + timedelta(microseconds=int(us))).astimezone(zones[i % 3])
        for i, us in enumerate(rng.integers(-(10**14), 10**14, 500))
    ]
    stamps += [datetime(2026, 11, 25, 12, 0, 0, 999_999), datetime(1999, 12, 31, 23, 59, 59, 1)]  # zone-less: UTC
    expected = pd.to_datetime(stamps, utc=True)
    assert (utc_timestamps(stamps) == expected).all()


def test_columns_and_readings_give_the_same_frame():
    readings = long_readings(machines=2, minutes=5).assign(machine_type="press", rated_power_w=5000.0)
    rows = ForecastRequest.model_validate({"readings": _rows(readings)})
    columns = ForecastRequest.model_validate(
        {"columns": {c: v for c, v in zip(readings.columns, zip(*[r.values() for r in _rows(readings)]))}}
    )
    from_rows, from_columns = readings_frame(rows), readings_frame(columns)
    pd.testing.assert_frame_equal(from_rows, from_columns)
    assert str(from_rows["ts"].dtype) == "datetime64[ns, UTC]"
    assert (from_rows["ts"].to_numpy() == readings["ts"].to_numpy()).all()
    assert from_rows["rated_power_w"].eq(5000.0).all()


def test_attributes_are_left_out_when_nobody_sends_them():
    frame = readings_frame(ForecastRequest.model_validate({"readings": _rows(long_readings(machines=1, minutes=2))}))
    assert list(frame.columns) == ["machine_id", "sensor", "ts", "value"]
    assert readings_frame(ForecastRequest.model_validate({})).empty


@pytest.mark.parametrize(
    "body, message",
    [
        (
            {
                "columns": {
                    "machine_id": ["M"],
                    "sensor": ["power", "power"],
                    "ts": ["2026-11-25T12:00:00Z"] * 2,
                    "value": [1.0, 2.0],
                }
            },
            "one length",
        ),
        ({"readings": [], "columns": {"machine_id": [], "sensor": [], "ts": [], "value": []}}, "not both"),
        ({"readings": [{"machine_id": "M", "sensor": "power", "ts": "yesterday", "value": 1.0}]}, "datetime"),
    ],
)
def test_malformed_bodies_are_refused(body, message):
    with pytest.raises(ValidationError, match=message):
        ForecastRequest.model_validate(body)
