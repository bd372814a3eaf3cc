"""librdkafka's log lines, routed to Python logging without flooding it: during a broker outage the client
reports a failed connection every few milliseconds; one line per kind per interval is enough."""

from __future__ import annotations

import logging
import time

KAFKA_LOGGER = "powercast.ingest.kafka"


class RateLimit(logging.Filter):
    """Lets through one record per librdkafka facility (FAIL, SESSTMOUT, ...) every `interval_s`."""

    def __init__(self, interval_s: float = 10.0):
        super().__init__()
        self.interval_s = interval_s
        self._last: dict[object, float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        kind = record.args[0] if isinstance(record.args, tuple) and record.args else record.msg
        now = time.monotonic()
        if now - self._last.get(kind, -self.interval_s) < self.interval_s:
            return False
        self._last[kind] = now
        return True


def kafka_logger() -> logging.Logger:
    """The logger handed to confluent-kafka clients (the filter is installed once)."""
    logger = logging.getLogger(KAFKA_LOGGER)
    if not any(isinstance(f, RateLimit) for f in logger.filters):
        logger.addFilter(RateLimit())
    return logger
