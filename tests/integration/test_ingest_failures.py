"""The ingestor loses nothing and duplicates nothing through a kill -9 and a PostgreSQL outage."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from tests.integration.ingest_support import (
    fresh_topics,
    machine_prefix,
    produce,
    query,
    readings,
    row_count,
    running_ingestor,
    wait_until,
)

REPO = Path(__file__).resolve().parents[2]


def _start_ingestor(settings, topic: str, dlq: str, log_path: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": settings.app_database_url,
        "POWERCAST_KAFKA_BOOTSTRAP_SERVERS": settings.bootstrap_servers,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")])),
    }
    cmd = [
        sys.executable,
        "-m",
        "powercast",
        "ingest",
        "--topic",
        topic,
        "--dlq-topic",
        dlq,
        "--group",
        f"g-{topic}",
        "--batch-size",
        "300",
        "--batch-ms",
        "100",
        "--metrics-port",
        "0",
        "--summary-every",
        "1",
    ]
    with open(log_path, "ab") as log:
        return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=log_path.parent)


def _event_ids(url: str, prefix: str) -> list[str]:
    return [str(r[0]) for r in query(url, "SELECT event_id FROM readings WHERE machine_id LIKE %s", (prefix + "%",))]


def _expected_ids(stream) -> list[str]:
    import json

    return sorted(json.loads(payload)["event_id"] for _, payload in stream)


def test_kill_9_mid_stream_then_restart_keeps_every_event_once(services, tmp_path):
    bootstrap, url = services.bootstrap_servers, services.app_database_url
    topic, dlq = fresh_topics(bootstrap)
    prefix = machine_prefix()
    stream = readings(prefix, machines=20, steps=60)  # 4,800 readings
    chunks = [stream[i : i + 400] for i in range(0, len(stream), 400)]
    log_path = tmp_path / "ingest.log"

    first = _start_ingestor(services, topic, dlq, log_path)
    try:
        for chunk in chunks[: len(chunks) // 2]:
            produce(bootstrap, topic, chunk)
        wait_until(lambda: row_count(url, prefix) > 0, timeout=60, what="the first rows")
        for chunk in chunks[len(chunks) // 2 : -2]:
            produce(bootstrap, topic, chunk)
        first.send_signal(signal.SIGKILL)  # in the middle of the stream: no drain, no commit
        assert first.wait(10) == -signal.SIGKILL
    finally:
        if first.poll() is None:
            first.kill()
    killed_at = row_count(url, prefix)
    assert 0 < killed_at < len(stream)

    for chunk in chunks[-2:]:
        produce(bootstrap, topic, chunk)
    second = _start_ingestor(services, topic, dlq, log_path)
    try:
        wait_until(lambda: row_count(url, prefix) == len(stream), timeout=90, what="every reading after the restart")
        second.send_signal(signal.SIGTERM)
        assert second.wait(30) == 0, log_path.read_text()[-2000:]
    finally:
        if second.poll() is None:
            second.kill()
    assert sorted(_event_ids(url, prefix)) == _expected_ids(stream)
    assert "ingest stopped:" in log_path.read_text()  # the SIGTERM path drained and said so


def test_postgres_outage_mid_stream_loses_nothing(kafka, make_settings):
    from powercast.db.migrate import migrate
    from powercast.stack.postgres import EmbeddedPostgres

    # A PostgreSQL of its own (the shared one keeps running for other tests), in a directory of its own: pytest
    # re-locks /tmp/pytest-of-<user> to 0700 whenever any session starts, which would stop pg_ctl (run as the
    # server's own user) from reaching a data directory below it.
    data_dir = Path(tempfile.mkdtemp(prefix="powercast-outage-"))
    server = EmbeddedPostgres(make_settings().model_copy(update={"data_dir": data_dir}))
    bootstrap = kafka.bootstrap_servers
    topic, dlq = fresh_topics(bootstrap)
    prefix = machine_prefix()
    stream = readings(prefix, machines=10, steps=40)  # 1,600 readings
    third = len(stream) // 3
    try:
        url = server.start()
        migrate(url)
        with running_ingestor(bootstrap, url, topic, dlq, batch_size=200) as ingestor:
            produce(bootstrap, topic, stream[:third])
            wait_until(lambda: row_count(url, prefix) == third, what="rows before the outage")
            server.stop()
            produce(bootstrap, topic, stream[third : 2 * third])
            wait_until(lambda: ingestor.counters.db_retries >= 2, what="the ingestor to hit the outage")
            consumed_during_outage = ingestor.counters.consumed
            producer = threading.Thread(target=produce, args=(bootstrap, topic, stream[2 * third :]))
            producer.start()
            time.sleep(3)
            # Consumption is paused while the batch waits for the database: nothing more piles up in memory.
            assert ingestor.counters.consumed == consumed_during_outage < len(stream)
            server.start()
            producer.join(30)
            wait_until(lambda: row_count(url, prefix) == len(stream), timeout=60, what="every reading after the outage")
        assert sorted(_event_ids(url, prefix)) == _expected_ids(stream)
        assert ingestor.counters.written == len(stream)
        assert ingestor.counters.db_retries >= 2
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def test_broker_outage_mid_stream_loses_nothing(services, make_settings):
    from powercast.stack.kafka import KafkaBroker

    # A broker of its own: this test stops it, and the shared one keeps serving the other tests.
    data_dir = Path(tempfile.mkdtemp(prefix="powercast-broker-outage-"))
    broker = KafkaBroker(make_settings().model_copy(update={"data_dir": data_dir}))
    url, prefix = services.app_database_url, machine_prefix()
    stream = readings(prefix, machines=10, steps=20)  # 800 readings
    half = len(stream) // 2
    try:
        bootstrap = broker.start()
        topic, dlq = fresh_topics(bootstrap)
        with running_ingestor(bootstrap, url, topic, dlq, batch_size=100) as ingestor:
            produce(bootstrap, topic, stream[:half])
            wait_until(lambda: row_count(url, prefix) == half, timeout=60, what="rows before the outage")
            broker.stop()  # the consumer keeps retrying against the dead broker until it is back
            broker.start()
            produce(bootstrap, topic, stream[half:])
            wait_until(lambda: row_count(url, prefix) == len(stream), timeout=90, what="every reading after the outage")
        assert sorted(_event_ids(url, prefix)) == _expected_ids(stream)
        assert ingestor.counters.written == len(stream) and ingestor.counters.duplicates == 0
    finally:
        broker.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
