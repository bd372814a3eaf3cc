"""Synchronous offset commits, retried through short broker hiccups."""

from __future__ import annotations

import logging
import time

from powercast.ingest.metrics import IngestCounters
from powercast.ingest.writer import Backoff

log = logging.getLogger(__name__)


def commit_sync(
    consumer, offsets: list[tuple[str, int, int]], counters: IngestCounters, retry_for_s: float = 60.0
) -> bool:
    """Commit exactly `offsets` (topic, partition, next offset) and wait for the broker. Retriable errors are
    retried for `retry_for_s`; then, or on a non-retriable error (the group moved on), the commit is given up:
    its records are read again later and skipped as duplicates, so nothing is lost. True when committed."""
    from confluent_kafka import KafkaException, TopicPartition

    if not offsets:
        return True
    wanted = [TopicPartition(t, p, o) for t, p, o in offsets]
    deadline = time.monotonic() + retry_for_s
    for delay in Backoff(initial=0.1, maximum=2.0).delays():
        try:
            done = consumer.commit(offsets=wanted, asynchronous=False)
            failed = [tp for tp in done or [] if tp.error is not None]
            if failed:
                raise KafkaException(failed[0].error)
            counters.last_commit_time = time.time()
            return True
        except KafkaException as exc:
            counters.commit_failures += 1
            error = exc.args[0] if exc.args else exc
            retriable = getattr(error, "retriable", lambda: False)()
            if not retriable or time.monotonic() + delay > deadline:
                log.warning("offset commit failed (%s); its records will be re-read and skipped as duplicates", error)
                return False
            time.sleep(delay)
    return False  # pragma: no cover (the loop above always returns)
