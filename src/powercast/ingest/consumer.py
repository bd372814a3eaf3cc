"""The ingestor's loop: read a batch from Kafka, validate it, write it to PostgreSQL, then commit its offsets.

Offsets move only after the rows they carry are committed in PostgreSQL; a crash anywhere replays at most the
uncommitted batch, and the idempotent write makes the replay harmless. The group uses the classic eager
protocol: a revoke or loss always covers every partition this instance holds.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

from powercast.db.connection import redact
from powercast.ingest.batch import PendingBatch, commit_offsets, utc_now
from powercast.ingest.dead_letters import DeadLetterTopic
from powercast.ingest.logs import kafka_logger
from powercast.ingest.metrics import IngestCounters, serve_metrics
from powercast.ingest.offsets import commit_sync
from powercast.ingest.options import IngestOptions
from powercast.ingest.writer import TRANSIENT_ERRORS, BatchWriter, WriteResult, write_with_retry

log = logging.getLogger(__name__)

COMMIT_RETRY_LIMIT_S = 60.0  # after this a commit is given up: the next batch's commit covers its offsets
LAG_EVERY_S = 1.0


def consumer_config(bootstrap: str, group: str) -> dict:
    return {
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "client.id": "powercast-ingest",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "partition.assignment.strategy": "range",
        "max.poll.interval.ms": 300_000,
        "session.timeout.ms": 10_000,  # a killed instance's partitions move on after 10 s, not 45
        "heartbeat.interval.ms": 2_000,
        "fetch.wait.max.ms": 100,
        "queued.max.messages.kbytes": 32_768,  # bounds the prefetch queue (memory)
    }


class Ingestor:
    """One member of the ingestor consumer group. `run()` blocks until `request_stop()` (or a signal)."""

    def __init__(
        self, bootstrap: str, database_url: str, options: IngestOptions, counters: IngestCounters | None = None
    ):
        self.bootstrap = bootstrap
        self.database_url = database_url
        self.options = options
        self.counters = counters or IngestCounters()
        self._stop = threading.Event()
        self._batch = PendingBatch()
        self._assigned: set[tuple[str, int]] = set()
        self._committed: dict[tuple[str, int], int] = {}
        self._paused = False
        self._writing = False
        self._abandoned = False
        self._consumer = None
        self._writer: BatchWriter | None = None
        self._executor = None
        self._inflight: tuple[PendingBatch, float, Future] | None = None
        self._dlq: DeadLetterTopic | None = None
        self._last_kafka_error = 0.0

    # control ----------------------------------------------------------------------------------------------
    def request_stop(self, *_args) -> None:
        """Ask the loop to drain the current batch, commit and close. Safe from signal handlers and threads."""
        self._stop.set()

    def assigned(self) -> set[tuple[str, int]]:
        """The (topic, partition) pairs this instance holds now."""
        return set(self._assigned)

    def committed_offset(self, topic: str, partition: int) -> int | None:
        """The next offset this instance committed for the partition (None before its first commit)."""
        return self._committed.get((topic, partition))

    def run(self) -> IngestCounters:
        from confluent_kafka import Consumer

        opts = self.options
        self._consumer = Consumer(
            {**consumer_config(self.bootstrap, opts.group), "error_cb": self._on_kafka_error}, logger=kafka_logger()
        )
        self._writer = BatchWriter(self.database_url)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-writer")
        self._dlq = DeadLetterTopic(self.bootstrap, opts.dlq_topic)
        self._maintain_partitions()
        server = serve_metrics(self.counters, opts.metrics_port, opts.metrics_addr)
        self._consumer.subscribe(
            [opts.topic], on_assign=self._on_assign, on_revoke=self._on_revoke, on_lost=self._on_lost
        )
        log.info("ingesting %s as group %s into %s", opts.topic, opts.group, redact(self.database_url))
        try:
            self._loop()
            self._flush(wait=True)  # drain what was read before the stop
        finally:
            self._close(server)
        log.info("ingest stopped: %s", self.counters.summary())
        return self.counters

    def _loop(self) -> None:
        opts = self.options
        next_lag = next_summary = time.monotonic()
        while not self._stop.is_set():
            self._read()
            self._finish_inflight(block=False)
            if self._batch.due(opts.batch_size, opts.batch_max_s):
                self._flush()
            now = time.monotonic()
            if now >= next_lag:
                self._update_lag()
                next_lag = now + LAG_EVERY_S
            if opts.summary_every_s and now >= next_summary:
                if now > self.counters.started + 1:
                    log.info("ingest: %s", self.counters.summary())
                next_summary = now + opts.summary_every_s

    def _maintain_partitions(self) -> None:
        """Readings partitions for the days ahead, old ones dropped; a database not up yet only delays this to the
        first write, which creates the partitions its rows need."""
        try:
            upkeep = self._writer.maintain_partitions(self.options.retention_days)
        except TRANSIENT_ERRORS as exc:
            log.warning("could not prepare the readings partitions yet (%s)", exc)
            return
        if upkeep.created or upkeep.dropped:
            log.info(
                "readings partitions: %d created, %d dropped (%s)",
                upkeep.created,
                len(upkeep.dropped),
                ", ".join(upkeep.dropped) or "none",
            )

    def _close(self, server) -> None:
        try:
            self._consumer.close()  # leaves the group; the revoke callback flushes anything still pending
        finally:
            self._executor.shutdown(wait=True)
            self._dlq.close()
            self._writer.close()
            if server is not None:
                server.shutdown()

    # read -------------------------------------------------------------------------------------------------
    def _read(self) -> None:
        opts, batch = self.options, self._batch
        wait = opts.max_poll_wait_s
        if batch.started_at is not None:
            wait = max(0.0, min(wait, batch.started_at + opts.batch_max_s - time.monotonic()))
        messages = self._consumer.consume(num_messages=max(1, opts.batch_size - len(batch)), timeout=wait)
        if not messages:
            return
        now, add, consumed = utc_now(), batch.add, 0
        for message in messages:
            if message.error() is None:
                add(message, now)
                consumed += 1
            else:
                self._on_message_error(message.error())
        self.counters.consumed += consumed

    # write and commit -------------------------------------------------------------------------------------
    # One batch at a time is written by a worker thread while the loop reads and validates the next one (psycopg2
    # releases the GIL while PostgreSQL works). Results, retries, dead letters and commits stay on this thread.
    def _flush(self, *, wait: bool = False) -> None:
        """Hand the pending batch to the writer (after the previous one is committed); `wait` for it too."""
        if len(self._batch) and not self._abandoned:
            # Encoded here, while the previous batch may still be written: the writer thread then needs the GIL for
            # little more than the driver's calls, and the main thread does not wait on it in between.
            self._batch.copy_data()
        self._finish_inflight()
        batch = self._batch
        if len(batch) and not self._abandoned:
            self._batch = PendingBatch()
            self._inflight = (batch, time.monotonic(), self._executor.submit(self._writer.write, batch))
        if wait:
            self._finish_inflight()

    def _finish_inflight(self, *, block: bool = True) -> None:
        """Collect the in-flight write (retrying it through an outage), then publish dead letters and commit."""
        if self._inflight is None or self._writing:
            return
        batch, started, future = self._inflight
        if not block and not future.done():
            return
        self._inflight = None
        self._writing = True
        try:
            try:
                result = future.result()
            except TRANSIENT_ERRORS as exc:
                self._on_db_retry(0, exc)
                result = write_with_retry(self._writer, batch, wait=self._wait_alive, on_retry=self._on_db_retry)
        except BaseException:
            self._abandoned = True  # an unexpected failure: write nothing more, commit nothing, let it surface
            raise
        finally:
            self._writing = False
        if result is None:
            self._abandoned = True  # stopping during an outage: nothing committed, the batch is read again later
            log.warning(
                "stopping before PostgreSQL came back: %d records left uncommitted (they will be re-read)",
                len(batch) + len(self._batch),
            )
            return
        self._resume()
        self.counters.write_seconds += time.monotonic() - started
        self._count(batch, result)
        self._publish_dead_letters([*batch.dead_letters, *result.rejected])
        self._commit(batch.offsets)

    def _count(self, batch: PendingBatch, result: WriteResult) -> None:
        c = self.counters
        c.written += result.inserted
        c.duplicates += result.duplicates
        c.count_dead_letters([*batch.dead_letters, *result.rejected])
        c.batches += 1

    def _publish_dead_letters(self, letters) -> None:
        """Copy the batch's dead letters to the DLQ topic (best effort: they are already in PostgreSQL)."""
        self._dlq.publish(letters)
        self.counters.dlq_failures = self._dlq.failures
        self.counters.dlq_truncated = self._dlq.truncated

    def _commit(self, offsets: dict[tuple[str, int], int]) -> None:
        wanted = [(t, p, o) for t, p, o in commit_offsets(offsets) if (t, p) in self._assigned]
        if commit_sync(self._consumer, wanted, self.counters, retry_for_s=COMMIT_RETRY_LIMIT_S):
            for topic, partition, offset in wanted:
                self._committed[(topic, partition)] = offset

    # database outage: keep the group membership alive without reading more --------------------------------
    def _wait_alive(self, seconds: float) -> bool:
        """Sleep `seconds` while serving the consumer (heartbeats, rebalances, max.poll.interval.ms) with every
        partition paused, so no new records pile up in memory. False when a stop was requested."""
        from confluent_kafka import TopicPartition

        if not self._paused:
            self._consumer.pause(self._consumer.assignment())
            self._paused = True
        deadline = time.monotonic() + seconds
        while not self._stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return True
            # Paused partitions deliver nothing; a record that was already queued is rewound, not kept.
            earliest: dict[tuple[str, int], int] = {}
            for message in self._consumer.consume(num_messages=100, timeout=min(left, 0.5)):
                if message.error() is None:
                    key = (message.topic(), message.partition())
                    earliest[key] = min(earliest.get(key, message.offset()), message.offset())
            for (topic, partition), offset in earliest.items():
                self._consumer.seek(TopicPartition(topic, partition, offset))
        return False

    def _resume(self) -> None:
        if self._paused:
            self._consumer.resume(self._consumer.assignment())
            self._paused = False
            log.info("PostgreSQL is back; consuming again")

    def _on_db_retry(self, attempt: int, exc: Exception) -> None:
        self.counters.db_retries += 1

    # rebalance callbacks ----------------------------------------------------------------------------------
    def _on_assign(self, consumer, partitions) -> None:
        self._assigned |= {(tp.topic, tp.partition) for tp in partitions}
        if self._paused:
            consumer.assign(partitions)
            consumer.pause(partitions)
        try:
            for tp in consumer.committed(partitions, timeout=10):
                if tp.offset >= 0:
                    self._committed[(tp.topic, tp.partition)] = tp.offset
        except Exception as exc:  # only the lag figure depends on it
            log.debug("could not read committed offsets: %s", exc)
        log.info("assigned %s", _describe(partitions))

    def _on_revoke(self, consumer, partitions) -> None:
        if not self._writing:
            self._flush(wait=True)  # commit what was read from these partitions while we still own them
        self._forget(partitions)
        log.info("revoked %s", _describe(partitions))

    def _on_lost(self, consumer, partitions) -> None:
        if not self._writing:
            self._batch.clear()  # uncommitted records go to the partitions' next owner
        self._forget(partitions)
        log.warning("lost %s (records since the last commit will be re-read)", _describe(partitions))

    def _forget(self, partitions) -> None:
        for tp in partitions:
            key = (tp.topic, tp.partition)
            self._assigned.discard(key)
            self._committed.pop(key, None)
            self.counters.lag.pop(key, None)

    # observability ----------------------------------------------------------------------------------------
    def _update_lag(self) -> None:
        from confluent_kafka import TopicPartition

        for topic, partition in list(self._assigned):
            try:
                low, high = self._consumer.get_watermark_offsets(TopicPartition(topic, partition), cached=True)
            except Exception:  # noqa: S112 - lag is observability only; the next poll refreshes it
                continue
            if high < 0:
                continue
            base = self._committed.get((topic, partition), low if low >= 0 else 0)
            self.counters.lag[(topic, partition)] = max(0, high - base)

    def _on_message_error(self, error) -> None:
        if error.fatal():
            from confluent_kafka import KafkaException

            raise KafkaException(error)
        self._on_kafka_error(error)

    def _on_kafka_error(self, error) -> None:
        now = time.monotonic()
        if now - self._last_kafka_error >= 5:  # a broker outage repeats the same error many times a second
            log.warning("kafka: %s (retrying)", error)
            self._last_kafka_error = now


def _describe(partitions) -> str:
    return ", ".join(f"{tp.topic}[{tp.partition}]" for tp in partitions) or "nothing"
