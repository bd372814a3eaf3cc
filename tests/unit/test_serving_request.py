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


NOW = datetime(2026, 11, 25, 12, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    "stamps, row",
    [
        (["2026-11-25T12:00:00Z", "2026-11-25T12:11:00+01:00", "2026-11-25T12:10:01Z"], 2),  # after 12:05 + 5 min
        (["2026-11-25T12:00:00", "2300-01-01T00:00:00", "2026-11-25T12:01:00"], 1),  # zone-less, read as UTC
        (["2026-11-25T12:00:00Z", "1999-12-31T23:59:59", "2026-11-25T12:01:00-03:00"], 1),  # both kinds mixed
        (["2026-11-25T12:00:00Z", "2000-01-01T00:30:00+01:00"], 1),  # 1999-12-31 23:30 UTC
    ],
)
def test_the_earliest_and_latest_times_are_held_to_the_event_rule(stamps, row):
    from powercast.serving.forecast_request import InvalidReading, check_readings

    rows = [{"machine_id": "M-1", "sensor": "power", "ts": ts, "value": 1.0} for ts in stamps]
    for body, loc in (
        ({"readings": rows}, ("body", "readings", row, "ts")),
        ({"columns": {k: [r[k] for r in rows] for k in rows[0]}}, ("body", "columns", "ts", row)),
    ):
        with pytest.raises(InvalidReading) as refused:
            check_readings(ForecastRequest.model_validate(body), now=NOW)
        assert refused.value.loc == loc
    allowed = [
        {**r, "ts": "2026-11-25T12:09:59+00:00" if i == 0 else "2000-01-01T00:00:00Z"} for i, r in enumerate(rows)
    ]
    check_readings(ForecastRequest.model_validate({"readings": allowed}), now=NOW)  # 12:09:59 is within 5 min
