"""`recent_readings` (COPY as CSV, parsed by pyarrow) gives exactly the frame a plain cursor fetch gives."""

from __future__ import annotations

import uuid

import pandas as pd

from powercast.scoring.readings import recent_readings

START = pd.Timestamp("2003-05-06 07:00", tz="UTC")  # a range no other test writes


def _reference(conn, since, until, machines=None) -> pd.DataFrame:
    """The frame as the tuples of a cursor build it (the way the fleet round read before COPY)."""
    where, args = "r.ts >= %s AND r.ts < %s", [since, until]
    if machines is not None:
        where, args = where + " AND r.machine_id = ANY(%s)", [*args, list(machines)]
    with conn.cursor() as cur:
        cur.execute(
            "SELECT r.machine_id, r.sensor, r.ts, r.value, m.machine_type, m.rated_power_w FROM readings r "
            f"LEFT JOIN machines m USING (machine_id) WHERE {where} ORDER BY r.machine_id, r.ts, r.sensor",
            args,
        )
        rows = cur.fetchall()
    frame = pd.DataFrame(rows, columns=["machine_id", "sensor", "ts", "value", "machine_type", "rated_power_w"])
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    frame["value"] = frame["value"].astype(float)
    frame["rated_power_w"] = frame["rated_power_w"].astype(float)
    return frame


def _insert(conn) -> None:
    values = [0.1, 1e-300, 12345.678901234567, -0.0, 2.0**60, 1 / 3, 99.99, 7.0]
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO machines (machine_id, machine_type, rated_power_w) VALUES "
            "('rr-press', 'press', 45000.5), ('rr-bare', NULL, NULL) ON CONFLICT (machine_id) DO NOTHING"
        )
        for i, machine in enumerate(["rr-press", "rr-bare", "rr-unregistered"]):
            for k, value in enumerate(values):
                ts = START + pd.Timedelta(seconds=10 * k, microseconds=123_457 * i)
                for sensor in ("power", "temperature"):
                    cur.execute(
                        "INSERT INTO readings (machine_id, sensor, ts, value, unit, event_id) "
                        "VALUES (%s, %s, %s, %s, %s, %s)",
                        (machine, sensor, ts, value * (i + 1), "W" if sensor == "power" else "°C", str(uuid.uuid4())),
                    )


def test_copy_read_equals_the_cursor_read(db):
    _insert(db)
    until = START + pd.Timedelta(minutes=5)
    for machines in (None, ["rr-press", "rr-unregistered"], ["rr-bare"]):
        got = recent_readings(db, START, until, machines)
        want = _reference(db, START, until, machines)
        for column in ("machine_type", "rated_power_w"):
            if want[column].isna().all():
                want = want.drop(columns=[column])
        assert len(got) > 0
        pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_an_empty_window_is_an_empty_frame(db):
    got = recent_readings(db, START - pd.Timedelta(days=1), START - pd.Timedelta(hours=23), ["rr-press"])
    assert got.empty and list(got.columns) == ["machine_id", "sensor", "ts", "value"]
    assert str(got["ts"].dtype) == "datetime64[ns, UTC]"
