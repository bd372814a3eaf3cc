"""The embedded broker is a real Kafka: clients round-trip records, topics exist, stop leaves nothing."""

from __future__ import annotations

import json
import uuid

from powercast.names import DLQ_TOPIC, READINGS_TOPIC, READINGS_TOPIC_PARTITIONS
from powercast.pids import pid_alive
from powercast.stack.java import java_executable
from powercast.stack.kafka import KafkaBroker, broker_answers
from powercast.stream.topics import ensure_topics


def test_topics_exist_with_their_partitions(kafka):
    from confluent_kafka.admin import AdminClient

    topics = AdminClient({"bootstrap.servers": kafka.bootstrap_servers}).list_topics(timeout=10).topics
    assert len(topics[READINGS_TOPIC].partitions) == READINGS_TOPIC_PARTITIONS
    assert DLQ_TOPIC in topics


def test_ensure_topics_is_idempotent(kafka):
    assert ensure_topics(kafka.bootstrap_servers) == []


def test_produce_consume_round_trip_with_kafka_python(kafka):
    from kafka import KafkaConsumer, KafkaProducer
    from kafka.admin import KafkaAdminClient, NewTopic

    topic = f"roundtrip-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers)
    admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
    admin.close()

    sent = [{"n": i, "machine_id": f"M-{i % 3:03d}"} for i in range(50)]
    producer = KafkaProducer(
        bootstrap_servers=kafka.bootstrap_servers, acks="all", value_serializer=lambda v: json.dumps(v).encode()
    )
    for event in sent:
        producer.send(topic, key=event["machine_id"].encode(), value=event)
    producer.flush()
    producer.close()

    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=kafka.bootstrap_servers,
        group_id=f"g-{topic}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=15000,
        value_deserializer=json.loads,
    )
    received = []
    for record in consumer:
        received.append(record.value)
        if len(received) == len(sent):
            break
    consumer.close()
    assert sorted(r["n"] for r in received) == list(range(50))


def test_start_is_idempotent_and_stop_leaves_no_process(make_settings):
    settings = make_settings()
    broker = KafkaBroker(settings)
    broker.start()
    pid = broker.pid()
    assert pid is not None and broker_answers(settings.bootstrap_servers)
    assert broker.start() == settings.bootstrap_servers
    assert broker.pid() == pid

    assert broker.stop() is True
    assert not pid_alive(pid)
    assert broker.pid() is None
    assert not broker_answers(settings.bootstrap_servers, timeout=1)
    assert broker.stop() is False


def test_storage_formats_under_a_cluster_id_that_starts_with_a_dash(make_settings):
    """About one random id in 64 starts with "-"; the real storage tool must take it as the id, not an option."""
    cluster_id = "-KHD4lt9TgmcSi1vix46Vw"
    broker = KafkaBroker(make_settings())
    broker.provision()
    broker.write_config()
    broker.format_storage(java_executable(), cluster_id=cluster_id)

    meta = (broker.paths.logs_dir / "meta.properties").read_text().splitlines()
    assert f"cluster.id={cluster_id}" in meta
    assert broker.pid() is None


def _retention_ms(bootstrap: str, topic: str) -> str:
    from confluent_kafka.admin import AdminClient, ConfigResource, ResourceType

    admin = AdminClient({"bootstrap.servers": bootstrap})
    (future,) = admin.describe_configs([ConfigResource(ResourceType.TOPIC, topic)], request_timeout=10).values()
    return future.result()["retention.ms"].value


def test_topics_get_the_configured_retention_new_or_existing(kafka):
    bootstrap = kafka.bootstrap_servers
    created_with, existing = f"retained-{uuid.uuid4().hex[:8]}", f"unbounded-{uuid.uuid4().hex[:8]}"
    ensure_topics(bootstrap, {existing: 1})  # made before any retention was asked for
    assert _retention_ms(bootstrap, existing) == str(kafka.kafka_retention_ms)  # the broker's default: 7 days

    hour = 3600 * 1000
    assert ensure_topics(bootstrap, {created_with: 1, existing: 1}, retention_ms=hour) == [created_with]
    assert _retention_ms(bootstrap, created_with) == str(hour)
    assert _retention_ms(bootstrap, existing) == str(hour)
    assert ensure_topics(bootstrap, {existing: 1}, retention_ms=hour) == []  # nothing to change a second time
    assert _retention_ms(bootstrap, existing) == str(hour)


def test_the_embedded_broker_keeps_records_seven_days_by_default(kafka):
    assert kafka.kafka_retention_ms == 7 * 24 * 3600 * 1000
    assert f"log.retention.ms={kafka.kafka_retention_ms}" in KafkaBroker(kafka).paths.config.read_text().splitlines()
