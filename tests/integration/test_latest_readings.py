"""latest_readings (sql/0016) holds the newest reading of every machine and sensor, kept by triggers on readings:
through the ingestor's batches, replays and late batches, direct inserts, deletes and updates; the Fleet page
reads it, and the fleet round finds its active machines there."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from dash_app.data.fleet import load_latest
from powercast.db.connection import connect
from powercast.ingest.batch import PendingBatch
from powercast.ingest.writer import BatchWriter
from powercast.scoring.readings import active_machines
from powercast.stream.events import SENSORS
from tests.integration.ingest_support import machine_prefix, readings
from tests.unit.test_ingest_batch import FakeRecord

NOW = datetime.now(UTC).replace(microsecond=0)


def _batch(payloads, topic: str) -> PendingBatch:
    batch = PendingBatch()
    for offset, (key, payload) in enumerate(payloads):
        batch.add(FakeRecord(payload, _offset=offset, _topic=topic, _key=key), NOW)
    return batch


def _latest(conn, prefix: str) -> dict[tuple[str, str], tuple[datetime, float]]:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT machine_id, sensor, ts, value FROM latest_readings WHERE machine_id LIKE %s", (prefix + "%",)
        )
        rows = cur.fetchall()
    conn.rollback()
    return {(m, s): (ts, v) for m, s, ts, v in rows}


def _newest_in_readings(conn, prefix: str) -> dict[tuple[str, str], tuple[datetime, float]]:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT DISTINCT ON (machine_id, sensor) machine_id, sensor, ts, value FROM readings "
            "WHERE machine_id LIKE %s ORDER BY machine_id, sensor, ts DESC",
            (prefix + "%",),
        )
        rows = cur.fetchall()
    conn.rollback()
    return {(m, s): (ts, v) for m, s, ts, v in rows}


@pytest.fixture
def conn(postgres):
    conn = connect(postgres.app_database_url)
    yield conn
    conn.close()


def test_batches_keep_the_newest_reading_and_a_replay_or_late_batch_changes_nothing(postgres, conn):
    prefix = machine_prefix()
    writer = BatchWriter(postgres.app_database_url)
    recent = readings(prefix, machines=2, steps=3, start=NOW - timedelta(minutes=5))
    older = readings(prefix, machines=2, steps=3, start=NOW - timedelta(minutes=30))
    try:
        writer.write(_batch(recent, f"l-{prefix}"))
        after_first = _latest(conn, prefix)
        writer.write(_batch(recent, f"l-{prefix}"))  # a replay: every row a duplicate
        writer.write(_batch(older, f"l-{prefix}"))  # a batch from before, delivered late
    finally:
        writer.close()
    newest_ts = NOW - timedelta(minutes=5) + timedelta(seconds=20)
    assert set(after_first) == {(f"{prefix}{m:03d}", s) for m in range(2) for s in SENSORS}
    assert {ts for ts, _ in after_first.values()} == {newest_ts}
    assert {(key[1], value) for key, (_, value) in after_first.items()} == {
        (s, 20.0 + i) for i, s in enumerate(SENSORS)
    }
    assert _latest(conn, prefix) == after_first == _newest_in_readings(conn, prefix)


def test_deleting_or_changing_the_newest_reading_falls_back_to_the_next_newest(conn):
    machine = f"{machine_prefix()}000"
    times = [NOW - timedelta(minutes=m) for m in (3, 2, 1)]
    with conn.cursor() as cur:
        for value, ts in enumerate(times):
            cur.execute(
                "INSERT INTO readings (machine_id, sensor, ts, value, unit, event_id) VALUES (%s, 'power', %s, %s, "
                "'W', %s)",
                (machine, ts, float(value), str(uuid.uuid4())),
            )
        conn.commit()
        assert _latest(conn, machine) == {(machine, "power"): (times[2], 2.0)}

        cur.execute("DELETE FROM readings WHERE machine_id = %s AND ts = %s", (machine, times[2]))
        conn.commit()
        assert _latest(conn, machine) == {(machine, "power"): (times[1], 1.0)}

        cur.execute("UPDATE readings SET value = 7 WHERE machine_id = %s AND ts = %s", (machine, times[1]))
        conn.commit()
        assert _latest(conn, machine) == {(machine, "power"): (times[1], 7.0)}

        cur.execute("DELETE FROM readings WHERE machine_id = %s", (machine,))
        conn.commit()
    assert _latest(conn, machine) == {}


def test_a_rolled_back_insert_leaves_no_trace(conn):
    machine = f"{machine_prefix()}000"
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO readings (machine_id, sensor, ts, value, unit, event_id) VALUES (%s, 'power', %s, 1, 'W', %s)",
            (machine, NOW, str(uuid.uuid4())),
        )
    conn.rollback()
    assert _latest(conn, machine) == {}


def test_the_fleet_page_reads_every_registered_machines_latest_values(postgres, conn):
    prefix = machine_prefix()
    machine, silent = f"{prefix}000", f"{prefix}001"
    writer = BatchWriter(postgres.app_database_url)
    try:
        writer.write(_batch(readings(prefix, machines=1, steps=2, start=NOW - timedelta(minutes=2)), f"l-{prefix}"))
    finally:
        writer.close()
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO machines (machine_id, machine_type, rated_power_w) VALUES (%s, 'cnc_mill', 30000), "
            "(%s, 'cnc_mill', 30000) ON CONFLICT DO NOTHING",
            (machine, silent),
        )
    conn.commit()
    try:
        latest = load_latest(conn)
        mine = latest[latest["machine_id"].str.startswith(prefix)].set_index(["machine_id", "sensor"])
        assert len(mine) == 8
        for i, sensor in enumerate(SENSORS):
            assert mine.loc[(machine, sensor), "value"] == 10.0 + i
            assert mine.loc[(machine, sensor), "ts"] == NOW - timedelta(minutes=2) + timedelta(seconds=10)
        assert mine.loc[silent]["ts"].isna().all()  # registered, never heard from: a row per sensor, no value
    finally:
        with conn.cursor() as cur:
            cur.execute("DELETE FROM machines WHERE machine_id LIKE %s", (prefix + "%",))
        conn.commit()


def test_active_machines_are_those_with_a_power_reading_in_the_window(conn):
    prefix = machine_prefix()
    since, until = NOW - timedelta(minutes=10), NOW
    samples = {
        "in-window": [("power", NOW - timedelta(minutes=1))],
        "newer-too": [("power", NOW - timedelta(minutes=5)), ("power", NOW + timedelta(minutes=3))],
        "only-after": [("power", NOW + timedelta(minutes=1))],
        "only-before": [("power", NOW - timedelta(minutes=20))],
        "no-power": [("temperature", NOW - timedelta(minutes=1)), ("power", NOW - timedelta(minutes=30))],
        "edge-since": [("power", since)],
        "edge-until": [("power", until)],
    }
    with conn.cursor() as cur:
        for name, rows in samples.items():
            for sensor, ts in rows:
                cur.execute(
                    "INSERT INTO readings (machine_id, sensor, ts, value, unit, event_id) VALUES (%s, %s, %s, 1, "
                    "'W', %s)",
                    (prefix + name, sensor, ts, str(uuid.uuid4())),
                )
        conn.commit()
        cur.execute(  # the definition, straight from readings
            "SELECT DISTINCT machine_id FROM readings WHERE sensor = 'power' AND ts >= %s AND ts < %s "
            "AND machine_id LIKE %s ORDER BY 1",
            (since, until, prefix + "%"),
        )
        expected = [row[0] for row in cur.fetchall()]
    conn.rollback()
    active = [m for m in active_machines(conn, pd.Timestamp(since), pd.Timestamp(until)) if m.startswith(prefix)]
    assert active == expected == [prefix + n for n in ("edge-since", "in-window", "newer-too")]
