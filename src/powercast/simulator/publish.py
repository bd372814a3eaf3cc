"""Publishing simulated readings to Kafka: history (`backfill`) and real time (`run_live`).

Public API for benchmarks and tests:
- `generate_events(machines, start, end, ...)` yields encoded `(key, value)` records without any broker;
- `backfill(settings, machines, start, end, ...)` publishes a time range as fast as the broker takes it;
- `run_live(simulator, producer, start_step, stop)` publishes every step once its time has come, catching up
  first if `start_step` lies in the past, so a backfill followed by live mode leaves no gap.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tqdm import tqdm

from powercast.config import Settings
from powercast.names import READINGS_TOPIC
from powercast.simulator.anomalies import Anomaly
from powercast.simulator.control import ControlDir, InjectionRequest
from powercast.simulator.encoding import encode_block
from powercast.simulator.engine import NOISE_BLOCK, FleetSimulator
from powercast.simulator.fleet import Machine, build_fleet
from powercast.simulator.producer import ReadingProducer, open_producer
from powercast.stream.events import SENSORS

log = logging.getLogger(__name__)
MAX_READINGS_PER_BLOCK = 2_000_000  # readings simulated at once (bounds memory)
READINGS_PER_SEND = 20_000  # readings sent between two looks at the stop flag


@dataclass
class PublishStats:
    """What a publishing run produced."""

    readings: int = 0  # valid reading events
    malformed: int = 0  # deliberately broken events (anomaly `malformed`)
    steps: int = 0
    seconds: float = 0.0
    next_step: int | None = None  # the first step not yet published
    started: float = field(default_factory=time.perf_counter, repr=False)

    @property
    def records(self) -> int:
        return self.readings + self.malformed

    @property
    def rate(self) -> float:
        """Records per second."""
        return self.records / self.seconds if self.seconds > 0 else 0.0


def as_fleet(machines: int | list[Machine], seed: int) -> list[Machine]:
    return build_fleet(machines, seed) if isinstance(machines, int) else machines


def chunk_steps(fleet_size: int, readings: int = MAX_READINGS_PER_BLOCK) -> int:
    """Steps per chunk: at most a noise block, at most `readings` readings, at least one step."""
    return max(1, min(NOISE_BLOCK, readings // (fleet_size * len(SENSORS))))


def step_range(start: datetime, end: datetime, interval_s: int) -> tuple[int, int]:
    """Steps with start <= ts < end."""
    return math.ceil(start.timestamp() / interval_s), math.ceil(end.timestamp() / interval_s)


def make_simulator(
    machines: int | list[Machine], *, seed: int, interval_s: int, anomaly_rate: float, anomalies: Iterable[Anomaly] = ()
) -> FleetSimulator:
    sim = FleetSimulator(as_fleet(machines, seed), seed=seed, interval_s=interval_s, anomaly_rate=anomaly_rate)
    for anomaly in anomalies:
        sim.inject(anomaly)
    return sim


def generate_events(
    machines: int | list[Machine],
    start: datetime,
    end: datetime,
    *,
    seed: int = 42,
    interval_s: int = 10,
    anomaly_rate: float = 0.0,
    anomalies: Iterable[Anomaly] = (),
) -> Iterator[tuple[bytes, bytes]]:
    """Encoded `(key, value)` records for every reading with start <= ts < end, in time order.

    `machines` is a fleet size or a list from `build_fleet`; `anomalies` are episodes added to those the
    seed schedules at `anomaly_rate`. Deterministic under `seed`.
    """
    sim = make_simulator(machines, seed=seed, interval_s=interval_s, anomaly_rate=anomaly_rate, anomalies=anomalies)
    fleet = sim.machines
    first, last = step_range(start, end, interval_s)
    size = chunk_steps(len(fleet))
    for a in range(first, last, size):
        yield from encode_block(sim.block(a, min(a + size, last)))


def publish_steps(
    sim: FleetSimulator,
    producer: ReadingProducer,
    first: int,
    last: int,
    *,
    progress: bool = False,
    stop: threading.Event | None = None,
) -> PublishStats:
    """Publish steps first <= k < last; stops early (between slices) when `stop` is set. Does not flush."""
    stats = PublishStats(next_step=first)
    per_step = len(sim.machines) * len(SENSORS)
    size, send_size = chunk_steps(len(sim.machines)), chunk_steps(len(sim.machines), READINGS_PER_SEND)
    with tqdm(
        total=(last - first) * per_step,
        unit=" readings",
        unit_scale=True,
        disable=not progress,
        desc="publishing",
        smoothing=0.1,
    ) as bar:
        for a in range(first, last, size):
            block = sim.block(a, min(a + size, last))
            for p in range(0, len(block.steps), send_size):
                if stop is not None and stop.is_set():
                    return _finish(stats)
                part = block.slice(p, p + send_size)
                for key, value in encode_block(part):
                    producer.send(key, value)
                stats.readings += part.readings
                stats.malformed += len(part.malformed)
                stats.steps += len(part.steps)
                stats.next_step = int(part.steps[-1]) + 1
                bar.update(len(part.steps) * per_step)
    return _finish(stats)


def _finish(stats: PublishStats) -> PublishStats:
    stats.seconds = time.perf_counter() - stats.started
    return stats


def backfill(
    settings: Settings,
    machines: int | list[Machine],
    start: datetime,
    end: datetime,
    *,
    seed: int = 42,
    interval_s: int = 10,
    anomaly_rate: float = 0.0,
    anomalies: Iterable[Anomaly] = (),
    producer: str = "kafka-python",
    progress: bool = False,
    stop: threading.Event | None = None,
) -> PublishStats:
    """Publish every reading with start <= ts < end to the readings topic as fast as the broker takes them.

    Returns the counts once every record is acknowledged (acks=all). `producer` is `kafka-python` or
    `confluent`. The records are exactly those of `generate_events` with the same arguments.
    """
    sim = make_simulator(machines, seed=seed, interval_s=interval_s, anomaly_rate=anomaly_rate, anomalies=anomalies)
    sink = open_producer(producer, settings.bootstrap_servers, READINGS_TOPIC)
    try:
        stats = publish_steps(sim, sink, *step_range(start, end, interval_s), progress=progress, stop=stop)
        sink.flush()
    finally:
        sink.close()
    stats.seconds = time.perf_counter() - stats.started
    return stats


def to_anomaly(sim: FleetSimulator, req: InjectionRequest, start_step: int) -> Anomaly | None:
    index = {m.machine_id: m.index for m in sim.machines}.get(req.machine_id)
    if index is None:
        log.warning("inject: machine %s is not in this fleet", req.machine_id)
        return None
    steps = max(1, round(req.minutes * 60 / sim.interval_s))
    return Anomaly(index, req.kind, start_step, steps, magnitude=req.magnitude, sensor=req.sensor)


def run_live(
    sim: FleetSimulator,
    producer: ReadingProducer,
    start_step: int,
    stop: threading.Event,
    *,
    control: ControlDir | None = None,
    clock=time.time,
) -> PublishStats:
    """Publish step after step as real time passes, until `stop` is set; flushes before returning.

    A `start_step` in the past is caught up first as fast as possible (with a progress bar when it is long).
    Injection requests found in `control` start at the current step.
    """
    total = PublishStats(next_step=start_step)
    next_step = start_step
    while not stop.is_set():
        now_step = int(clock() // sim.interval_s)
        for req in control.take_requests() if control else ():
            anomaly = to_anomaly(sim, req, max(now_step, next_step))
            if anomaly is not None:
                sim.inject(anomaly)
                log.info("injected %s on %s for %s min", req.kind, req.machine_id, req.minutes)
        if next_step <= now_step:
            backlog = now_step + 1 - next_step
            stats = publish_steps(
                sim, producer, next_step, now_step + 1, stop=stop, progress=backlog > chunk_steps(len(sim.machines))
            )
            producer.flush()
            total.readings += stats.readings
            total.malformed += stats.malformed
            total.steps += stats.steps
            next_step = total.next_step = stats.next_step
        stop.wait(max(0.0, next_step * sim.interval_s - clock()))
    producer.flush()
    total.seconds = time.perf_counter() - total.started
    return total


def now_utc() -> datetime:
    return datetime.now(UTC)
