"""The feature job against the real PostgreSQL: incremental, idempotent, late data, snapshots, the minute frame."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from psycopg2.extras import execute_values

from powercast.db.connection import connect
from powercast.features.aggregate import minute_frame_from_readings
from powercast.features.job import run_feature_job
from powercast.features.tables import load_minute_frame, snapshots

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
UNITS = {"power": "W", "temperature": "°C"}


@pytest.fixture
def conn(postgres):
    """A committed-work connection on a clean feature state (the job commits, so tests clean up after)."""
    conn = connect(postgres.app_database_url)
    _clean(conn)
    yield conn
    conn.rollback()
    _clean(conn)
    conn.close()


def _clean(conn) -> None:
    with conn.cursor() as cur:
        cur.execute(
            "DELETE FROM features_1m; DELETE FROM feature_snapshots; "
            "DELETE FROM readings WHERE machine_id LIKE 'FJ-%%'; "
            "DELETE FROM machines WHERE machine_id LIKE 'FJ-%%'"
        )
    conn.commit()


def _readings(machines=("FJ-1", "FJ-2"), minutes=30, start=T0, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for m in machines:
        ts = [start + timedelta(seconds=s) for s in range(0, minutes * 60, 10)]
        for sensor, level in (("power", 1500.0), ("temperature", 60.0)):
            rows.append(
                pd.DataFrame(
                    {"machine_id": m, "sensor": sensor, "ts": ts, "value": level + rng.normal(0, level * 0.02, len(ts))}
                )
            )
    return pd.concat(rows, ignore_index=True)


def _insert(conn, readings: pd.DataFrame) -> None:
    rows = [
        (r.machine_id, r.sensor, r.ts, float(r.value), UNITS[r.sensor], str(uuid.uuid4()))
        for r in readings.itertuples()
    ]
    with conn.cursor() as cur:
        execute_values(
            cur,
            "INSERT INTO readings (machine_id, sensor, ts, value, unit, event_id) VALUES %s ON CONFLICT DO NOTHING",
            rows,
        )
    conn.commit()


def _row(conn, machine: str, ts: datetime) -> tuple:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT power_mean, power_count, snapshot_id FROM features_1m WHERE machine_id = %s AND ts = %s",
            (machine, ts),
        )
        return cur.fetchone()


def test_incremental_idempotent_and_late_data(conn):
    _insert(conn, _readings())
    first = run_feature_job(conn)
    assert first.mode == "full"
    assert first.minutes_recomputed == first.row_count == 60
    assert first.machines == ["FJ-1", "FJ-2"]
    assert (first.range_start, first.range_end) == (T0, T0 + timedelta(minutes=30))

    second = run_feature_job(conn)
    assert second.mode == "incremental"
    assert second.row_count == 0  # readings re-scanned within the settle margin change nothing

    old_minute = T0 + timedelta(minutes=5)
    before = _row(conn, "FJ-1", old_minute)
    late = pd.DataFrame(
        {"machine_id": "FJ-1", "sensor": "power", "ts": [old_minute + timedelta(seconds=5)], "value": [9000.0]}
    )
    _insert(conn, late)
    third = run_feature_job(conn, settle=timedelta(0))
    after = _row(conn, "FJ-1", old_minute)
    assert third.mode == "incremental"
    assert third.minutes_recomputed == 1 and third.row_count == 1
    assert (third.range_start, third.range_end) == (old_minute, old_minute + timedelta(minutes=1))
    assert after[1] == before[1] + 1
    assert after[0] == pytest.approx((before[0] * before[1] + 9000.0) / (before[1] + 1))
    assert after[2] == third.snapshot_id

    fourth = run_feature_job(conn, settle=timedelta(0))
    assert fourth.minutes_recomputed == 0 and fourth.range_start is None
    recorded = snapshots(conn, limit=10)
    assert [s["id"] for s in recorded] == [fourth.snapshot_id, third.snapshot_id, second.snapshot_id, first.snapshot_id]
    assert recorded[1]["row_count"] == 1 and recorded[1]["machines"] == ["FJ-1"]
    assert recorded[0]["watermark"] > recorded[1]["watermark"]

    recompute = run_feature_job(conn, full=True)  # the incremental runs left exactly what a full run computes
    assert recompute.minutes_recomputed == 60 and recompute.row_count == 0


def test_new_minutes_only_and_open_minute_recomputed(conn):
    readings = _readings(machines=("FJ-1",), minutes=10)
    half_open = readings[readings["ts"] < T0 + timedelta(minutes=9, seconds=30)]
    _insert(conn, half_open)
    run_feature_job(conn)
    assert _row(conn, "FJ-1", T0 + timedelta(minutes=9))[1] == 3  # the last minute was still filling
    _insert(conn, readings)  # the rest of minute 9, then two new minutes
    _insert(conn, _readings(machines=("FJ-1",), minutes=2, start=T0 + timedelta(minutes=10), seed=1))
    run = run_feature_job(conn, settle=timedelta(0))
    assert run.minutes_recomputed == 3
    assert run.range_start == T0 + timedelta(minutes=9)
    assert _row(conn, "FJ-1", T0 + timedelta(minutes=9))[1] == 6


def test_bounded_full_run_keeps_the_watermark(conn):
    _insert(conn, _readings(machines=("FJ-1",), minutes=20))
    first = run_feature_job(conn)
    bounded = run_feature_job(conn, since=T0 + timedelta(minutes=5), until=T0 + timedelta(minutes=8), full=True)
    assert bounded.mode == "full" and bounded.minutes_recomputed == 3 and bounded.row_count == 0
    assert bounded.watermark == first.watermark


def test_minute_frame_matches_the_pandas_aggregation(conn, postgres):
    readings = _readings(minutes=40)
    gap = (readings["ts"] >= T0 + timedelta(minutes=10)) & (readings["ts"] < T0 + timedelta(minutes=13))
    readings = readings[~(gap & (readings["machine_id"] == "FJ-2"))]
    _insert(conn, readings)
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO machines (machine_id, machine_type, rated_power_w) VALUES "
            "('FJ-1', 'press', 4000), ('FJ-2', 'cnc', 2500)"
        )
    conn.commit()
    run_feature_job(conn)

    frame = load_minute_frame(conn, start=T0, end=T0 + timedelta(hours=1))
    expected = minute_frame_from_readings(
        readings,
        machines=pd.DataFrame(
            {"machine_id": ["FJ-1", "FJ-2"], "machine_type": ["press", "cnc"], "rated_power_w": [4000.0, 2500.0]}
        ),
    )
    assert len(frame) == 80 and frame["power"].isna().sum() == 3  # FJ-2's three missing minutes are NaN rows
    assert list(frame.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(frame, expected, check_exact=False, rtol=1e-9)

    only = load_minute_frame(
        postgres.app_database_url, start=T0 + timedelta(minutes=5), end=T0 + timedelta(minutes=7), machines=["FJ-2"]
    )
    assert only["machine_id"].unique().tolist() == ["FJ-2"] and len(only) == 2


def test_an_unmigrated_database_gets_a_clear_error(postgres):
    from powercast.errors import PowercastError
    from tests.databases import create_database

    url = create_database(postgres, "features_unmigrated")
    conn = connect(url)
    try:
        with pytest.raises(PowercastError, match="powercast db migrate"):
            run_feature_job(conn)
        with pytest.raises(PowercastError, match="powercast db migrate"):
            load_minute_frame(conn)
    finally:
        conn.close()
