"""The simulator through a real broker: every record arrives once, keyed and partitioned by machine;
the live command continues a backfill without a gap, takes an injection and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from powercast.cli import app
from powercast.names import READINGS_TOPIC
from powercast.simulator.anomalies import Anomaly
from powercast.simulator.fleet import build_fleet
from powercast.simulator.machines_db import upsert_machines
from powercast.simulator.publish import backfill, generate_events
from powercast.stream.events import InvalidEvent, parse_event

START = datetime(2026, 11, 20, 9, tzinfo=UTC)
STEP0 = int(START.timestamp()) // 10


def _end_offsets(bootstrap: str) -> dict:
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    parts = [TopicPartition(READINGS_TOPIC, p) for p in consumer.partitions_for_topic(READINGS_TOPIC)]
    offsets = consumer.end_offsets(parts)
    consumer.close()
    return offsets


def _consume_between(bootstrap: str, before: dict, after: dict) -> list:
    """Every record of the readings topic between two snapshots of the end offsets."""
    from kafka import KafkaConsumer, TopicPartition

    wanted = {tp: end for tp, end in after.items() if end > before[tp]}
    if not wanted:
        return []
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=10_000)
    consumer.assign(list(wanted))
    for tp in wanted:
        consumer.seek(tp, before[tp])
    records = []
    for record in consumer:
        if record.offset < after[TopicPartition(record.topic, record.partition)]:
            records.append(record)
        if all(consumer.position(tp) >= end for tp, end in wanted.items()):
            break
    consumer.close()
    return records


@pytest.mark.parametrize("producer", ["kafka-python", "confluent"])
def test_backfill_delivers_exactly_the_generated_records(kafka, producer):
    machines, end = 3, START + timedelta(hours=1)
    anomalies = [Anomaly(0, "malformed", STEP0 + 60, 90), Anomaly(2, "dropout", STEP0 + 100, 30)]
    args = dict(seed=21, interval_s=10, anomaly_rate=0.0, anomalies=anomalies)
    expected = list(generate_events(machines, START, end, **args))

    before = _end_offsets(kafka.bootstrap_servers)
    stats = backfill(kafka, machines, START, end, producer=producer, **args)
    after = _end_offsets(kafka.bootstrap_servers)
    records = _consume_between(kafka.bootstrap_servers, before, after)

    assert stats.readings == 3 * 360 * 4 - 30 * 4 and stats.malformed > 0
    assert len(records) == stats.records == len(expected) == sum(after[tp] - before[tp] for tp in after)
    assert Counter((r.key, r.value) for r in records) == Counter(expected)

    partitions, valid, rejected, last_ts = defaultdict(set), set(), [], {}
    for r in records:
        partitions[r.key].add(r.partition)
        try:
            event = parse_event(r.value)
        except InvalidEvent:
            rejected.append(r.value)
            continue
        assert event.machine_id.encode() == r.key
        assert event.ts >= last_ts.get(r.key, event.ts)  # per machine, in time order
        last_ts[r.key] = event.ts
        valid.add((event.machine_id, event.sensor, event.ts))
    assert len(valid) == stats.readings and len(rejected) == stats.malformed
    assert all(len(p) == 1 for p in partitions.values()) and len(partitions) == machines


def test_both_producers_put_a_machine_on_the_same_partition(kafka):
    seen = defaultdict(set)
    for producer in ("kafka-python", "confluent"):
        before = _end_offsets(kafka.bootstrap_servers)
        backfill(kafka, 8, START, START + timedelta(seconds=10), producer=producer)
        for r in _consume_between(kafka.bootstrap_servers, before, _end_offsets(kafka.bootstrap_servers)):
            seen[r.key].add(r.partition)
    assert len(seen) == 8 and all(len(p) == 1 for p in seen.values())
    assert len({next(iter(p)) for p in seen.values()}) > 1


def test_machines_are_upserted_with_their_attributes(postgres, db):
    fleet = build_fleet(3, seed=77)
    ids = [m.machine_id for m in fleet]
    try:
        assert upsert_machines(postgres.app_database_url, fleet) == 3
        assert upsert_machines(postgres.app_database_url, build_fleet(3, seed=78)) == 3
        with db.cursor() as cur:
            cur.execute(
                "SELECT machine_id, machine_type, rated_power_w, attributes FROM machines "
                "WHERE machine_id = ANY(%s) ORDER BY machine_id",
                (ids,),
            )
            rows = cur.fetchall()
        newer = build_fleet(3, seed=78)
        assert [(r[0], r[1], r[2]) for r in rows] == [(m.machine_id, m.machine_type, m.rated_power_w) for m in newer]
        assert rows[0][3]["schedule"] == newer[0].schedule and "thermal_tau_minutes" in rows[0][3]
    finally:
        with db.cursor() as cur:
            cur.execute("DELETE FROM machines WHERE machine_id = ANY(%s)", (ids,))
        db.commit()


def test_live_command_continues_history_takes_an_injection_and_stops_on_sigterm(kafka, tmp_path, monkeypatch):
    env = {
        **os.environ,
        "POWERCAST_DATA_DIR": str(tmp_path),
        "POWERCAST_KAFKA_PORT": str(kafka.kafka_port),
        "POWERCAST_KAFKA_HOST": kafka.kafka_host,
    }
    env.pop("POWERCAST_KAFKA_BOOTSTRAP_SERVERS", None)
    cmd = [sys.executable, "-m", "powercast"]
    before = _end_offsets(kafka.bootstrap_servers)
    live = subprocess.Popen(
        [
            *cmd,
            "simulate",
            "--machines",
            "2",
            "--interval",
            "1",
            "--backfill-days",
            "0.0005",
            "--anomaly-rate",
            "0",
            "--no-register",
        ],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        heartbeat = tmp_path / "simulator" / "simulator.json"
        deadline = time.monotonic() + 30
        while not heartbeat.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        monkeypatch.setenv("POWERCAST_DATA_DIR", str(tmp_path))
        injected = CliRunner().invoke(app, ["inject", "--machine", "M-002", "--kind", "dropout", "--minutes", "0.05"])
        assert injected.exit_code == 0, injected.output
        time.sleep(6)
        live.send_signal(signal.SIGTERM)
        output, _ = live.communicate(timeout=30)
    finally:
        if live.poll() is None:
            live.kill()
    assert live.returncode == 0, output
    assert "stopped:" in output and not heartbeat.exists()

    records = _consume_between(kafka.bootstrap_servers, before, _end_offsets(kafka.bootstrap_servers))
    seconds = defaultdict(Counter)
    for r in records:
        event = parse_event(r.value)
        seconds[event.machine_id][int(event.ts.timestamp())] += 1
    m1, m2 = seconds["M-001"], seconds["M-002"]
    assert set(m1.values()) == {4}  # each second once, all four sensors
    assert sorted(m1) == list(range(min(m1), max(m1) + 1))  # no gap from history into live
    assert max(m1) - min(m1) >= 43 + 3
    assert len(set(m1) - set(m2)) == 3  # the injected 3-second dropout
