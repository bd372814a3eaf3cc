"""Creates the topics powercast uses, with a bounded retention; safe to call any number of times."""

from __future__ import annotations

import logging

from powercast.errors import PowercastError
from powercast.names import DLQ_TOPIC, DLQ_TOPIC_PARTITIONS, READINGS_TOPIC, READINGS_TOPIC_PARTITIONS

TOPICS = {READINGS_TOPIC: READINGS_TOPIC_PARTITIONS, DLQ_TOPIC: DLQ_TOPIC_PARTITIONS}
RETENTION = "retention.ms"

log = logging.getLogger(__name__)


def ensure_topics(
    bootstrap: str, topics: dict[str, int] | None = None, timeout: float = 30.0, retention_ms: int | None = None
) -> list[str]:
    """Create missing topics; return the names that were created now. With `retention_ms`
    (`POWERCAST_KAFKA_RETENTION_HOURS`), new topics are created with that retention and existing ones are altered
    to it, so a broker never keeps powercast's records longer."""
    from confluent_kafka import KafkaError, KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic

    wanted = topics or TOPICS
    admin = AdminClient({"bootstrap.servers": bootstrap})
    existing = set(admin.list_topics(timeout=timeout).topics)
    config = {RETENTION: str(retention_ms)} if retention_ms is not None else {}
    missing = [
        NewTopic(name, num_partitions=n, replication_factor=1, config=config)
        for name, n in wanted.items()
        if name not in existing
    ]
    created = []
    for name, future in admin.create_topics(missing, operation_timeout=timeout).items() if missing else []:
        try:
            future.result()
            created.append(name)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise PowercastError(f"could not create topic {name}", str(exc)) from exc
    if retention_ms is not None:
        set_retention(admin, [name for name in wanted if name not in created], retention_ms, timeout)
    return created


def set_retention(admin, topics: list[str], retention_ms: int, timeout: float = 30.0) -> list[str]:
    """Give `topics` the retention `retention_ms` where they have another; return the names altered. A broker
    that refuses (an external cluster without the right to alter configs) is logged, not raised: its
    operators own the retention there."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource, ResourceType

    wanted = str(retention_ms)
    resources = [ConfigResource(ResourceType.TOPIC, name) for name in topics]
    stale = []
    for resource, future in admin.describe_configs(resources, request_timeout=timeout).items() if topics else []:
        try:
            current = future.result().get(RETENTION)
        except KafkaException as exc:
            log.warning("cannot read the retention of topic %s: %s", resource.name, exc)
            continue
        if current is None or current.value != wanted:
            stale.append(resource.name)
    changes = [
        ConfigResource(
            ResourceType.TOPIC,
            name,
            incremental_configs=[ConfigEntry(RETENTION, wanted, incremental_operation=AlterConfigOpType.SET)],
        )
        for name in stale
    ]
    altered = []
    for resource, future in admin.incremental_alter_configs(changes, request_timeout=timeout).items() if stale else []:
        try:
            future.result()
            altered.append(resource.name)
            log.info("topic %s: %s set to %s", resource.name, RETENTION, wanted)
        except KafkaException as exc:
            log.warning("cannot set %s of topic %s to %s: %s", RETENTION, resource.name, wanted, exc)
    return altered
