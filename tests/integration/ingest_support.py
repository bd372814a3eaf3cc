"""Helpers for the ingestor's integration tests: fresh topics, producing, running an ingestor, waiting."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from powercast.ingest.consumer import Ingestor
from powercast.ingest.options import IngestOptions
from powercast.stream.events import SENSORS, encode_event
from powercast.stream.topics import ensure_topics


def fresh_topics(bootstrap: str, partitions: int = 3) -> tuple[str, str]:
    """A new readings topic and its DLQ topic, unique to the caller."""
    name = f"readings-{uuid.uuid4().hex[:10]}"
    ensure_topics(bootstrap, {name: partitions, f"{name}.dlq": 1})
    return name, f"{name}.dlq"


def machine_prefix() -> str:
    return f"T{uuid.uuid4().hex[:8]}-"


def readings(prefix: str, machines: int, steps: int, start: datetime | None = None) -> list[tuple[bytes, bytes]]:
    """(key, payload) for `machines` machines × 4 sensors × `steps` timestamps 10 s apart."""
    start = start or datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    out = []
    for step in range(steps):
        ts = start + timedelta(seconds=10 * step)
        for m in range(machines):
            machine = f"{prefix}{m:03d}"
            for i, sensor in enumerate(SENSORS):
                out.append((machine.encode(), encode_event(machine, sensor, float(step * 10 + i), ts)))
    return out


def produce(
    bootstrap: str, topic: str, records: Iterable[tuple[bytes | None, bytes | None]], config: dict | None = None
) -> list[tuple[int, int]]:
    """Publish and wait for every delivery; returns (partition, offset) per record, in order. `config` adds to or
    overrides the producer's settings (e.g. a larger `message.max.bytes`)."""
    from confluent_kafka import Producer

    producer = Producer(
        {"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5, "log_level": 0, **(config or {})}
    )
    records = list(records)
    placed: list[tuple[int, int] | None] = [None] * len(records)

    def delivered(index):
        def callback(err, msg):
            assert err is None, err
            placed[index] = (msg.partition(), msg.offset())

        return callback

    for index, (key, value) in enumerate(records):
        while True:
            try:
                producer.produce(topic, key=key, value=value, on_delivery=delivered(index))
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    assert producer.flush(30) == 0
    return placed  # type: ignore[return-value]


def topic_setting(bootstrap: str, topic: str, name: str) -> str:
    """One of the topic's effective settings as the broker reports it (e.g. `max.message.bytes`). A topic created
    a moment ago may still be unknown to the broker's metadata: asked again for up to 30 s."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient, ConfigResource, ResourceType

    admin = AdminClient({"bootstrap.servers": bootstrap})  # kept alive until the answer is in
    deadline = time.monotonic() + 30
    while True:
        (future,) = admin.describe_configs([ConfigResource(ResourceType.TOPIC, topic)]).values()
        try:
            return future.result(timeout=30)[name].value
        except KafkaException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def rewind_group(bootstrap: str, group: str, topic: str, partitions: int) -> None:
    """Set the (idle) group's committed offsets back to the start of every partition of `topic`: its next
    member reads everything again, as after a crash between the database commit and the offset commit."""
    from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap})
    request = ConsumerGroupTopicPartitions(group, [TopicPartition(topic, p, 0) for p in range(partitions)])
    for future in admin.alter_consumer_group_offsets([request]).values():
        future.result(timeout=30)


@contextmanager
def running_ingestor(bootstrap: str, database_url: str, topic: str, dlq_topic: str, **options):
    """An Ingestor in a background thread on its own group; stopped (drain + commit) on exit."""
    opts = IngestOptions(
        topic=topic, dlq_topic=dlq_topic, **{"group": f"g-{topic}", "summary_every_s": 0, "batch_max_s": 0.1, **options}
    )
    ingestor = Ingestor(bootstrap, database_url, opts)
    failure: list[BaseException] = []

    def run():
        try:
            ingestor.run()
        except BaseException as exc:  # surfaced to the test below
            failure.append(exc)

    thread = threading.Thread(target=run, name="ingestor", daemon=True)
    thread.start()
    try:
        yield ingestor
    finally:
        ingestor.request_stop()
        thread.join(60)
        assert not thread.is_alive(), "ingestor did not stop within 60 s"
        if failure:
            raise failure[0]


def wait_until(predicate: Callable[[], bool], timeout: float = 30.0, every: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def query(url: str, sql: str, params=()) -> list[tuple]:
    """Run one query on a fresh autocommit connection (sees every committed row)."""
    from powercast.db.connection import connect

    conn = connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        conn.close()


def row_count(url: str, prefix: str) -> int:
    return query(url, "SELECT count(*) FROM readings WHERE machine_id LIKE %s", (prefix + "%",))[0][0]


def dead_letter_count(url: str, topic: str) -> int:
    return query(url, "SELECT count(*) FROM dead_letters WHERE topic = %s", (topic,))[0][0]
