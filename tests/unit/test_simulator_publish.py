"""Encoding matches the event contract; live mode publishes every step once, catches up, and takes injections."""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from powercast.cli import app
from powercast.errors import PowercastError
from powercast.simulator.control import ControlDir, InjectionRequest
from powercast.simulator.encoding import uuid_strings
from powercast.simulator.engine import FleetSimulator
from powercast.simulator.fleet import build_fleet
from powercast.simulator.publish import generate_events, run_live
from powercast.stream.events import SENSORS, encode_event, parse_event

START = datetime(2026, 11, 24, 8, tzinfo=UTC)


def test_records_are_byte_identical_to_encode_event_in_time_order():
    records = list(generate_events(3, START, START + timedelta(minutes=30), seed=4))
    assert len(records) == 3 * 180 * len(SENSORS)
    last_ts, ids = None, set()
    for key, value in records:
        event = parse_event(value)
        assert key == event.machine_id.encode()
        assert value == encode_event(event.machine_id, event.sensor, event.value, event.ts, event_id=event.event_id)
        assert event.event_id.version == 4
        assert last_ts is None or event.ts >= last_ts
        last_ts = event.ts
        ids.add(event.event_id)
    assert len(ids) == len(records)
    assert START <= parse_event(records[0][1]).ts and last_ts < START + timedelta(minutes=30)


def test_uuid_strings_match_the_uuid_module():
    import numpy as np

    raw = np.random.default_rng(0).integers(0, 256, (50, 16), dtype=np.uint8)
    text = uuid_strings(raw)
    for row, chars in zip(raw, text):
        assert chars.tobytes().decode() == str(uuid.UUID(bytes=row.tobytes(), version=4))


class RecordingProducer:
    def __init__(self):
        self.records: list[tuple[bytes, bytes]] = []
        self.flushes = 0

    def send(self, key, value):
        self.records.append((key, value))

    def flush(self, timeout=None):
        self.flushes += 1

    def close(self):
        pass


class FakeTime(threading.Event):
    """A clock that jumps to the requested time whenever the loop waits; stops after `ticks` waits."""

    def __init__(self, now: float, ticks: int):
        super().__init__()
        self.now, self.ticks = now, ticks

    def __call__(self) -> float:
        return self.now

    def wait(self, timeout=None):
        self.now += timeout + 0.001
        self.ticks -= 1
        if self.ticks <= 0:
            self.set()
        return self.is_set()


def test_live_mode_catches_up_then_publishes_each_step_once(tmp_path):
    fleet = build_fleet(2, seed=5)
    sim = FleetSimulator(fleet, seed=5, interval_s=10)
    now_step = sim.step_at(START)
    clock = FakeTime(now_step * 10 + 3.0, ticks=6)
    control = ControlDir(tmp_path)
    control.announce([m.machine_id for m in fleet], 10)
    control.request(InjectionRequest("M-002", "dropout", minutes=0.5))
    producer = RecordingProducer()

    stats = run_live(sim, producer, now_step - 40, clock, control=control, clock=clock)

    events = [parse_event(v) for _, v in producer.records]
    steps = Counter(int(e.ts.timestamp()) // 10 for e in events)
    assert sorted(steps) == list(range(now_step - 40, now_step + 6))  # backlog, then one step per tick
    dropped = range(now_step, now_step + 3)  # 30 s of M-002 missing
    assert all(steps[k] == (4 if k in dropped else 8) for k in steps)
    assert stats.readings == len(events) and stats.next_step == now_step + 6
    assert producer.flushes >= 6
    assert control.take_requests() == []


def test_injection_needs_a_running_simulator_with_that_machine(tmp_path):
    control = ControlDir(tmp_path)
    with pytest.raises(PowercastError, match="no simulator is running"):
        control.request(InjectionRequest("M-001", "overheating", 5))
    control.announce(["M-001", "M-002"], 10)
    with pytest.raises(PowercastError, match="not in the running fleet"):
        control.request(InjectionRequest("M-009", "overheating", 5))
    control.request(InjectionRequest("M-002", "stuck_sensor", 5, sensor="power"))
    assert control.take_requests() == [InjectionRequest("M-002", "stuck_sensor", 5, sensor="power")]
    (control.inbox / "0-broken.json").write_text(json.dumps({"machine_id": "M-001", "kind": "meltdown", "minutes": 1}))
    assert control.take_requests() == []
    assert (control.inbox / "0-broken.rejected").exists()
    control.retire()
    assert control.running() is None


def test_a_stale_heartbeat_is_no_simulator(tmp_path):
    control = ControlDir(tmp_path)
    control.heartbeat.write_text(json.dumps({"pid": 2**22 + 12345, "interval_s": 10, "machines": ["M-001"]}))
    assert control.running() is None


@pytest.mark.parametrize(
    "args,message",
    [
        (["--machine", "M-001", "--kind", "meltdown"], "unknown anomaly kind"),
        (["--machine", "M-001", "--kind", "dropout", "--minutes", "0"], "--minutes must be positive"),
        (["--machine", "M-001", "--kind", "dropout"], "no simulator is running"),
    ],
)
def test_inject_command_errors_say_what_to_do(tmp_path, monkeypatch, args, message):
    monkeypatch.setenv("POWERCAST_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["inject", *args])
    assert isinstance(result.exception, PowercastError) and message in str(result.exception)


def test_inject_command_queues_a_request(tmp_path, monkeypatch):
    monkeypatch.setenv("POWERCAST_DATA_DIR", str(tmp_path))
    control = ControlDir(tmp_path / "simulator")
    control.announce(["M-001", "M-003"], 10)
    result = CliRunner().invoke(app, ["inject", "--machine", "M-003", "--kind", "overheating", "--minutes", "10"])
    assert result.exit_code == 0, result.output
    assert control.take_requests() == [InjectionRequest("M-003", "overheating", 10.0)]
    assert os.getpid() == control.running()["pid"]


def test_a_stop_request_ends_publishing_between_slices_with_exact_counts(monkeypatch):
    import powercast.simulator.publish as publish

    monkeypatch.setattr(publish, "READINGS_PER_SEND", 40)  # 10 steps of 1 machine per slice
    stop = threading.Event()

    class StoppingProducer(RecordingProducer):
        def send(self, key, value):
            super().send(key, value)
            if len(self.records) == 100:
                stop.set()

    sim = FleetSimulator(build_fleet(1, seed=2), seed=2, anomaly_rate=0)
    k0 = sim.step_at(START)
    producer = StoppingProducer()
    stats = publish.publish_steps(sim, producer, k0, k0 + 360, stop=stop)
    assert stats.records == len(producer.records) == 120  # the slice in flight completes
    assert stats.steps == 30 and stats.next_step == k0 + 30
