"""KRaft cluster ids: made as Kafka makes them, and handed to the storage tool so none reads as an option."""

from __future__ import annotations

import base64
import subprocess
import uuid

from powercast.stack import kafka
from powercast.stack.kafka import KafkaBroker, _kafka_uuid

DASH_FIRST = uuid.UUID("f8a1c3e2-5b7d-4e09-9c4a-2d6f8b1e3a57")  # base64: -KHD4lt9TgmcSi1vix46Vw
PLAIN = uuid.UUID("1f2e3d4c-5b6a-4798-8877-665544332211")  # base64: Hy49TFtqR5iId2ZVRDMiEQ


def test_ids_are_unpadded_url_safe_base64_of_a_v4_uuid_without_a_dash():
    for _ in range(2000):
        cluster_id = _kafka_uuid()
        assert len(cluster_id) == 22 and "-" not in cluster_id
        assert uuid.UUID(bytes=base64.urlsafe_b64decode(cluster_id + "==")).version == 4


def test_a_draw_whose_text_holds_a_dash_is_drawn_again(monkeypatch):
    draws = iter([DASH_FIRST, PLAIN])
    monkeypatch.setattr(kafka.uuid, "uuid4", lambda: next(draws))
    assert _kafka_uuid() == "Hy49TFtqR5iId2ZVRDMiEQ"


def test_the_cluster_id_reaches_the_storage_tool_as_one_argument(monkeypatch, make_settings):
    calls = []

    def run(cmd, **kwargs):
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(kafka.subprocess, "run", run)
    broker = KafkaBroker(make_settings())
    broker.format_storage("java", cluster_id="-KHD4lt9TgmcSi1vix46Vw")
    broker.format_storage("java")

    assert "--cluster-id=-KHD4lt9TgmcSi1vix46Vw" in calls[0]
    [random_id] = [arg.removeprefix("--cluster-id=") for arg in calls[1] if arg.startswith("--cluster-id=")]
    assert len(random_id) == 22 and "-" not in random_id
