"""`MinuteCache` (the fleet round's minutes kept between rounds) gives exactly the minute frame a full read of the
round's window gives: as rounds move on, with late readings, new and dropped machines, a window that grows back,
and an ingest transaction that was still open when the previous round read."""

from __future__ import annotations

import uuid

import numpy as np
import pandas as pd
import pytest

from powercast.scoring.minute_cache import MinuteCache
from powercast.scoring.model import minute_frame, normalize_readings
from powercast.scoring.readings import recent_readings
from tests.mlops.data import insert_readings

START = pd.Timestamp("2004-03-02 05:00", tz="UTC")  # a range no other test writes
SENSORS = ("power", "temperature", "vibration", "pressure")
KNOWN = pd.DataFrame({"machine_id": ["mc-c"], "machine_type": ["lathe"], "rated_power_w": [9000.0]})


def _readings(machine: str, since: pd.Timestamp, until: pd.Timestamp, seed: int, every_s: int = 10) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ts = pd.date_range(since, until, freq=f"{every_s}s", inclusive="left")
    frames = [
        pd.DataFrame({"machine_id": machine, "sensor": sensor, "ts": ts, "value": rng.normal(100, 20, len(ts))})
        for sensor in SENSORS
    ]
    return pd.concat(frames, ignore_index=True)


def _full_read(conn, since, until, machines) -> pd.DataFrame:
    """The minute frame the round builds without a cache."""
    frame = minute_frame(normalize_readings(recent_readings(conn, since, until, machines)), KNOWN)
    conn.commit()
    return frame


def _insert(conn, readings: pd.DataFrame) -> None:
    attributes = pd.DataFrame(
        {
            "machine_id": ["mc-a", "mc-b", "mc-c", "mc-d"],
            "machine_type": ["press", None, None, "pump"],
            "rated_power_w": [45000.0, None, None, 1500.5],
        }
    )
    insert_readings(conn, readings, attributes[attributes["machine_id"].isin(readings["machine_id"])])


@pytest.fixture
def history(db):
    """mc-a, mc-b every 10 s for 40 minutes; mc-c (unregistered attributes, known to the model) with a pressure
    meter every 5 minutes; mc-d arrives later. Removed again afterwards: the session database is shared, and a
    day without partition would stay in the default partition for other tests to find."""
    _forget(db)
    parts = [
        _readings("mc-a", START, START + pd.Timedelta(minutes=40), 1),
        _readings("mc-b", START + pd.Timedelta(minutes=3), START + pd.Timedelta(minutes=40), 2),
        _readings("mc-c", START, START + pd.Timedelta(minutes=38), 3),
    ]
    c = parts[2]
    parts[2] = c[(c["sensor"] != "pressure") | (c["ts"].dt.minute % 5 == 0) & (c["ts"].dt.second == 0)]
    _insert(db, pd.concat(parts, ignore_index=True))
    _age(db)
    yield db
    db.rollback()
    _forget(db)


def _forget(conn) -> None:
    with conn.cursor() as cur:
        cur.execute("DELETE FROM readings WHERE machine_id LIKE 'mc-%%'")
        cur.execute("DELETE FROM machines WHERE machine_id LIKE 'mc-%%'")
    conn.commit()


def _age(conn) -> None:
    """Readings of these machines as if ingested an hour ago: the history the rounds start from, not news."""
    with conn.cursor() as cur:
        cur.execute("UPDATE readings SET ingested_at = now() - interval '1 hour' WHERE machine_id LIKE 'mc-%%'")
    conn.commit()


def test_rounds_that_move_on_equal_a_full_read(history):
    conn, cache = history, MinuteCache()
    empty = cache.nbytes
    machines = ["mc-a", "mc-b", "mc-c"]
    since, until = START + pd.Timedelta(minutes=5), START + pd.Timedelta(minutes=30)
    got = cache.minute_frame(conn, since, until, machines, KNOWN)
    assert cache.last_read.full
    # what it holds: 3 machines x 4 sensors x 25 minutes of statistics, at least a float each
    assert cache.nbytes - empty >= 3 * 4 * 25 * 8
    pd.testing.assert_frame_equal(got, _full_read(conn, since, until, machines), check_exact=True)

    for step in range(1, 4):  # three more rounds, a minute apart, each after a late reading and a new machine
        late = pd.DataFrame(
            {
                "machine_id": ["mc-a", "mc-b"],
                "sensor": ["power", "vibration"],
                "ts": [
                    START + pd.Timedelta(minutes=10 + step, seconds=5),
                    START + pd.Timedelta(minutes=20, seconds=3 + step),
                ],
                "value": [1e6 + step, -5.0 * step],
            }
        )
        if step == 2:
            _insert(conn, _readings("mc-d", START, START + pd.Timedelta(minutes=40), 4))
            _age(conn)
            machines = [*machines, "mc-d"]
        _insert(conn, late)
        if step == 3:
            machines = ["mc-a", "mc-c", "mc-d"]  # mc-b fell silent
        since, until = since + pd.Timedelta(minutes=1), until + pd.Timedelta(minutes=1)
        got = cache.minute_frame(conn, since, until, machines, KNOWN)
        assert not cache.last_read.full
        assert cache.last_read.minutes_reread >= 1  # the late reading's minute was read again
        whole_window = 24 * 26  # readings of one machine's 26 minutes, 4 sensors every 10 s
        new_machines = 1 if step == 2 else 0  # mc-d is read whole, the others only where something changed
        assert cache.last_read.readings < whole_window * new_machines + 24 * 5 * len(machines)
        pd.testing.assert_frame_equal(got, _full_read(conn, since, until, machines), check_exact=True)


def test_a_window_that_starts_earlier_is_read_whole(history):
    conn, cache = history, MinuteCache()
    machines = ["mc-a", "mc-b"]
    cache.minute_frame(conn, START + pd.Timedelta(minutes=10), START + pd.Timedelta(minutes=30), machines)
    since, until = START + pd.Timedelta(minutes=2), START + pd.Timedelta(minutes=31)
    got = cache.minute_frame(conn, since, until, machines)
    assert cache.last_read.full
    want = minute_frame(normalize_readings(recent_readings(conn, since, until, machines)))
    pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_a_transaction_open_across_the_previous_read_is_caught(history):
    """A reading committed after a round read, by a transaction that began before it (its ingested_at is then
    older than the read), is still found: the settle margin looks back 60 s before the watermark."""
    conn, cache = history, MinuteCache()
    machines = ["mc-a"]
    since, until = START + pd.Timedelta(minutes=5), START + pd.Timedelta(minutes=30)
    cache.minute_frame(conn, since, until, machines)
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO readings (machine_id, sensor, ts, value, unit, event_id, ingested_at) "
            "VALUES ('mc-a', 'temperature', %s, 1234.5, '°C', %s, now() - interval '30 seconds')",
            (START + pd.Timedelta(minutes=12, seconds=1), str(uuid.uuid4())),
        )
    conn.commit()
    got = cache.minute_frame(conn, since, until + pd.Timedelta(minutes=1), machines)
    assert not cache.last_read.full and cache.last_read.minutes_reread >= 1
    row = got[got["ts"] == START + pd.Timedelta(minutes=12)]
    assert row["temperature_max"].iloc[0] == 1234.5
    pd.testing.assert_frame_equal(
        got,
        minute_frame(normalize_readings(recent_readings(conn, since, until + pd.Timedelta(minutes=1), machines))),
        check_exact=True,
    )


def test_every_rebuild_every_rounds_it_reads_everything_again(history):
    conn, cache = history, MinuteCache(rebuild_every=3)
    since, until = START + pd.Timedelta(minutes=5), START + pd.Timedelta(minutes=20)
    fulls = []
    for step in range(5):
        cache.minute_frame(conn, since + pd.Timedelta(minutes=step), until + pd.Timedelta(minutes=step), ["mc-a"])
        fulls.append(cache.last_read.full)
    assert fulls == [True, False, False, True, False]


def test_machines_without_readings_give_no_frame(history):
    cache = MinuteCache()
    assert cache.minute_frame(history, START - pd.Timedelta(hours=2), START - pd.Timedelta(hours=1), ["mc-a"]) is None
