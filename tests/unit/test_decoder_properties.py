"""Property over the ingestor's decoder (the batch's `add`): ten thousand generated records (valid events, mutated
events, random JSON, random bytes; own, foreign or missing keys) each become exactly one row or exactly one dead
letter with a known reason code, and the decoder never raises."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings

from powercast.ingest.batch import PendingBatch
from powercast.stream.events import DEAD_LETTER_REASONS
from tests.strategies import records
from tests.unit.test_ingest_batch import FakeRecord

NOW = datetime(2026, 1, 2, tzinfo=UTC)
SEEN = {"rows": 0, "dead_letters": 0}


@settings(max_examples=10_000, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(record=records())
def test_each_record_is_one_row_or_one_dead_letter_with_a_reason(record):
    batch = PendingBatch()
    key, payload = record
    accepted = batch.add(FakeRecord(payload, _offset=7, _topic="sensor.readings", _key=key), NOW, clock=0.0)
    assert len(batch) == 1 and batch.offsets == {("sensor.readings", 0): 7}
    if accepted:
        assert len(batch.readings) == 1 and batch.dead_letters == []
        SEEN["rows"] += 1
    else:
        (letter,) = batch.dead_letters
        assert batch.readings == [] and letter.reason in DEAD_LETTER_REASONS and letter.error
        assert (letter.key, letter.payload, letter.offset) == (*record, 7)
        SEEN["dead_letters"] += 1


def test_the_generated_records_held_both_outcomes():
    # runs after the property in file order: ten thousand records, with valid ones and rejected ones among them
    assert SEEN["rows"] + SEEN["dead_letters"] >= 10_000
    assert SEEN["rows"] > 100 and SEEN["dead_letters"] > 1000
