"""Creates the topics powercast uses; safe to call any number of times."""

from __future__ import annotations

from powercast.errors import PowercastError
from powercast.names import DLQ_TOPIC, DLQ_TOPIC_PARTITIONS, READINGS_TOPIC, READINGS_TOPIC_PARTITIONS

TOPICS = {READINGS_TOPIC: READINGS_TOPIC_PARTITIONS, DLQ_TOPIC: DLQ_TOPIC_PARTITIONS}


def ensure_topics(bootstrap: str, topics: dict[str, int] | None = None, timeout: float = 30.0) -> list[str]:
    """Create missing topics; return the names that were created now."""
    from confluent_kafka import KafkaError, KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic

    wanted = topics or TOPICS
    admin = AdminClient({"bootstrap.servers": bootstrap})
    existing = set(admin.list_topics(timeout=timeout).topics)
    missing = [
        NewTopic(name, num_partitions=n, replication_factor=1) for name, n in wanted.items() if name not in existing
    ]
    created = []
    for name, future in admin.create_topics(missing, operation_timeout=timeout).items() if missing else []:
        try:
            future.result()
            created.append(name)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise PowercastError(f"could not create topic {name}", str(exc)) from exc
    return created
