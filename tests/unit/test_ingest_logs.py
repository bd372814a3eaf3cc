"""librdkafka's repeated log lines are rate-limited per facility."""

import logging

from powercast.ingest.logs import RateLimit


def _record(fac: str) -> logging.LogRecord:
    return logging.LogRecord("k", logging.ERROR, __file__, 1, "%s [%s] %s", (fac, "consumer-1", "Connect failed"), None)


def test_one_line_per_facility_per_interval(monkeypatch):
    clock = iter([0.0, 0.1, 0.2, 10.5])
    monkeypatch.setattr("powercast.ingest.logs.time.monotonic", lambda: next(clock))
    limit = RateLimit(interval_s=10)
    assert [
        limit.filter(_record("FAIL")),
        limit.filter(_record("FAIL")),
        limit.filter(_record("SESSTMOUT")),
        limit.filter(_record("FAIL")),
    ] == [True, False, True, True]
