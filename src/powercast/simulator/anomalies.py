"""Anomalies: episodes that distort a machine's readings for a while.

| kind | signature |
| --- | --- |
| `overheating`  | temperature climbs towards `magnitude` °C above normal, then cools down with the thermal lag |
| `bearing_wear` | vibration drifts up, quadratically, to `magnitude` m/s² above normal |
| `power_spike`  | short spikes of up to `magnitude` × rated power on about a quarter of the readings |
| `stuck_sensor` | one sensor repeats the value it had when the episode began |
| `dropout`      | no readings at all from the machine |
| `malformed`    | besides its valid readings the machine sends broken events (see `malformed.py`) |

Episodes are drawn per machine and day (`rate` = expected episodes per machine per day) from the seed, or
injected into a running simulator. Everything random about an episode is drawn from its own identity, so the
same episode looks the same however time is cut into blocks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from powercast.simulator.kinds import KINDS
from powercast.simulator.physics import POWER, TEMPERATURE, VIBRATION
from powercast.stream.events import SENSORS

DEFAULT_MAGNITUDE = {"overheating": 25.0, "bearing_wear": 4.0, "power_spike": 0.8}
DURATION_MINUTES = {
    "overheating": (15, 60),
    "bearing_wear": (120, 720),
    "power_spike": (1, 5),
    "stuck_sensor": (10, 60),
    "dropout": (1, 20),
    "malformed": (5, 30),
}
MALFORMED_SHARE = 0.2  # share of a malformed episode's steps that carry a broken event
SPIKE_SHARE = 0.25


@dataclass(frozen=True)
class Anomaly:
    """One episode on one machine, from `start_step` for `steps` steps (steps count `interval`s since the epoch)."""

    machine_index: int
    kind: str
    start_step: int
    steps: int
    magnitude: float | None = None
    sensor: str | None = None  # the stuck sensor; None lets the episode pick one

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown anomaly kind {self.kind!r}; expected one of {', '.join(KINDS)}")
        if self.steps < 1:
            raise ValueError("an anomaly lasts at least one step")

    @property
    def end_step(self) -> int:
        return self.start_step + self.steps

    def rng(self, seed: int) -> np.random.Generator:
        return np.random.default_rng([seed, 4, self.machine_index, self.start_step, KINDS.index(self.kind)])

    def level(self) -> float:
        return self.magnitude if self.magnitude is not None else DEFAULT_MAGNITUDE.get(self.kind, 0.0)


def scheduled_anomalies(machine_indices: list[int], day: int, seed: int, rate: float, interval_s: int) -> list[Anomaly]:
    """The episodes the seed schedules on `day` (days since the epoch) at `rate` episodes per machine-day."""
    if rate <= 0:
        return []
    out = []
    steps_per_day = 86_400 // interval_s
    for index in machine_indices:
        rng = np.random.default_rng([seed, 3, index, day])
        for _ in range(int(rng.poisson(rate))):
            kind = KINDS[int(rng.integers(len(KINDS)))]
            low, high = DURATION_MINUTES[kind]
            steps = max(1, round(rng.uniform(low, high) * 60 / interval_s))
            start = day * steps_per_day + int(rng.integers(steps_per_day))
            sensor = SENSORS[int(rng.integers(len(SENSORS)))]
            out.append(Anomaly(index, kind, start, steps, sensor=sensor if kind == "stuck_sensor" else None))
    return out


@dataclass
class BlockEffects:
    """What anomalies did to one block besides changing values: missing readings and broken events."""

    present: np.ndarray  # (machines, steps, sensors) bool
    malformed: list[tuple[int, int, int, int]] = field(default_factory=list)  # (row, step pos, sensor, kind seed)


class AnomalyApplier:
    """Applies episodes to blocks of readings; remembers the values stuck sensors hold across blocks."""

    def __init__(self, rows: dict[int, int], rated: np.ndarray, thermal_tau_s: np.ndarray, seed: int, interval_s: int):
        self.rows = rows  # machine index -> row in the block
        self.rated = rated  # (machines,)
        self.thermal_tau_s = thermal_tau_s
        self.seed = seed
        self.interval_s = interval_s
        self._stuck: dict[Anomaly, float] = {}

    def reach(self, a: Anomaly) -> int:
        """Last step (exclusive) the episode affects: overheating cools down over five thermal time constants."""
        if a.kind == "overheating":
            return a.end_step + int(5 * self.thermal_tau_s[self.rows[a.machine_index]] / self.interval_s)
        return a.end_step

    def apply(self, values: np.ndarray, steps: np.ndarray, anomalies: list[Anomaly]) -> BlockEffects:
        """Distort `values` (machines, steps, sensors) in place for every episode overlapping `steps`."""
        effects = BlockEffects(np.ones(values.shape, dtype=bool))
        first, last = int(steps[0]), int(steps[-1])
        order = {kind: i for i, kind in enumerate(KINDS)}  # physics first, then stuck values, then gaps
        for a in sorted(anomalies, key=lambda a: (order[a.kind], a.start_step, a.machine_index)):
            if a.machine_index not in self.rows or a.start_step > last or self.reach(a) <= first:
                continue
            getattr(self, f"_{a.kind}")(a, values, effects, steps, self.rows[a.machine_index])
        self._stuck = {a: v for a, v in self._stuck.items() if a.end_step > last}
        return effects

    def _window(self, a: Anomaly, steps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pos = np.flatnonzero((steps >= a.start_step) & (steps < a.end_step))
        return pos, steps[pos] - a.start_step

    def _overheating(self, a, values, effects, steps, row):
        tau_steps = self.thermal_tau_s[row] / self.interval_s
        rise_steps = max(a.steps / 3, 1.0)
        k = steps - a.start_step
        during = a.level() * (1 - np.exp(-np.minimum(k, a.steps) / rise_steps))
        cooling = np.exp(-np.maximum(k - a.steps, 0) / tau_steps)
        offset = np.where(k >= 0, during * cooling, 0.0)
        values[row, :, TEMPERATURE] += offset

    def _bearing_wear(self, a, values, effects, steps, row):
        pos, rel = self._window(a, steps)
        values[row, pos, VIBRATION] += a.level() * ((rel + 1) / a.steps) ** 2

    def _power_spike(self, a, values, effects, steps, row):
        rng = a.rng(self.seed)
        spikes = rng.random(a.steps) < SPIKE_SHARE
        spikes[0] = True
        size = rng.uniform(0.6, 1.0, a.steps) * a.level() * self.rated[row]
        pos, rel = self._window(a, steps)
        values[row, pos, POWER] += np.where(spikes[rel], size[rel], 0.0)

    def _stuck_sensor(self, a, values, effects, steps, row):
        sensor = SENSORS.index(a.sensor) if a.sensor else int(a.rng(self.seed).integers(len(SENSORS)))
        pos, _ = self._window(a, steps)
        if len(pos) == 0:
            return
        held = self._stuck.setdefault(a, float(values[row, pos[0], sensor]))
        values[row, pos, sensor] = held

    def _dropout(self, a, values, effects, steps, row):
        pos, _ = self._window(a, steps)
        effects.present[row, pos, :] = False

    def _malformed(self, a, values, effects, steps, row):
        rng = a.rng(self.seed)
        broken = rng.random(a.steps) < MALFORMED_SHARE
        broken[0] = True
        sensors = rng.integers(len(SENSORS), size=a.steps)
        kind_seeds = rng.integers(2**31, size=a.steps)
        pos, rel = self._window(a, steps)
        for p, r in zip(pos[broken[rel]], rel[broken[rel]]):
            effects.malformed.append((row, int(p), int(sensors[r]), int(kind_seeds[r])))
