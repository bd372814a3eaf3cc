"""The fleet simulator: schedules, physics, noise and anomalies for any range of time steps.

Time is counted in steps of `interval_s` seconds since the Unix epoch (step k is at k × interval_s, UTC).
Random numbers are drawn per machine and per block of `NOISE_BLOCK` steps from the seed, so a machine's
readings depend only on the seed, its index and the time, not on how time is cut into calls nor on the
fleet size. Filters carry their state between consecutive calls; a call that does not continue the previous
one first runs a few unseen hours to warm the filters up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from powercast.simulator.anomalies import Anomaly, AnomalyApplier, scheduled_anomalies
from powercast.simulator.fleet import Machine
from powercast.simulator.physics import NOISE_CHANNELS, FilterState, SensorModel
from powercast.simulator.schedule import DAY_S, planned_load
from powercast.stream.events import SENSORS

NOISE_BLOCK = 360  # steps drawn together from one generator per machine
WARMUP_S = 3 * 3600  # longer than five thermal time constants of the slowest machine


@dataclass
class Block:
    """Readings of every machine for consecutive steps, before encoding."""

    machines: list[Machine]
    steps: np.ndarray  # (steps,) int64, step k is at k × interval_s
    interval_s: int
    values: np.ndarray  # (machines, steps, sensors) in `SENSORS` order
    present: np.ndarray  # (machines, steps, sensors) False where a reading dropped out
    event_ids: np.ndarray  # (machines, steps, sensors, 16) uint8, the bytes of each reading's UUID
    malformed: list[tuple[int, int, int, int]]  # (row, step position, sensor, kind seed) of broken events

    @property
    def readings(self) -> int:
        return int(self.present.sum())

    def timestamps(self) -> list[datetime]:
        return [datetime.fromtimestamp(int(k) * self.interval_s, tz=UTC) for k in self.steps]

    def slice(self, first: int, last: int) -> Block:
        """The steps at positions first <= p < last, as a block of their own."""
        broken = [(row, pos - first, sensor, seed) for row, pos, sensor, seed in self.malformed if first <= pos < last]
        return Block(
            self.machines,
            self.steps[first:last],
            self.interval_s,
            self.values[:, first:last],
            self.present[:, first:last],
            self.event_ids[:, first:last],
            broken,
        )

    def series(self, sensor: str) -> np.ndarray:
        """(machines, steps) values of one sensor, NaN where missing."""
        i = SENSORS.index(sensor)
        return np.where(self.present[..., i], self.values[..., i], np.nan)


class FleetSimulator:
    """Produces `Block`s for a fleet; deterministic under `seed`."""

    def __init__(self, machines: list[Machine], *, seed: int = 42, interval_s: int = 10, anomaly_rate: float = 0.0):
        if interval_s < 1 or DAY_S % interval_s:
            raise ValueError(f"interval must be a whole number of seconds dividing a day, got {interval_s}")
        self.machines = machines
        self.seed = seed
        self.interval_s = interval_s
        self.anomaly_rate = anomaly_rate
        self.model = SensorModel(machines, interval_s)
        rows = {m.index: row for row, m in enumerate(machines)}
        taus = np.array([m.kind.thermal_tau_minutes * 60 for m in machines])
        self.applier = AnomalyApplier(rows, self.model.rated[:, 0], taus, seed, interval_s)
        self.injected: list[Anomaly] = []
        self._state: FilterState | None = None
        self._next_step: int | None = None
        self._noise_cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._day_anomalies: dict[int, list[Anomaly]] = {}

    def step_at(self, ts: datetime) -> int:
        """The last step at or before `ts`."""
        return int(ts.timestamp() // self.interval_s)

    def inject(self, anomaly: Anomaly) -> None:
        """Add an episode (e.g. requested by `powercast inject`) on top of the scheduled ones."""
        if anomaly.machine_index not in self.applier.rows:
            raise ValueError(f"machine index {anomaly.machine_index} is not in this fleet")
        self.injected.append(anomaly)

    def block(self, start_step: int, end_step: int) -> Block:
        """Readings for steps `start_step <= k < end_step` of the whole fleet."""
        if end_step <= start_step:
            raise ValueError("empty step range")
        if self._next_step != start_step:
            self._warm_up(start_step)
        steps = np.arange(start_step, end_step, dtype=np.int64)
        noise, ids = self._noise(start_step, end_step)
        values = self._advance(steps, noise)
        effects = self.applier.apply(values, steps, self._anomalies(start_step, end_step))
        self.injected = [a for a in self.injected if self.applier.reach(a) > end_step]
        return Block(self.machines, steps, self.interval_s, values, effects.present, ids, effects.malformed)

    # internals --------------------------------------------------------------------------------------------
    def _advance(self, steps: np.ndarray, noise: np.ndarray) -> np.ndarray:
        t = steps.astype(float) * self.interval_s
        planned = np.stack([planned_load(m, t, self.seed) for m in self.machines])
        values = self.model.readings(planned, t, noise, self._state)
        self._next_step = int(steps[-1]) + 1
        return values

    def _warm_up(self, start_step: int) -> None:
        first = start_step - WARMUP_S // self.interval_s
        t0 = float(first * self.interval_s)
        initial = np.array([planned_load(m, np.array([t0]), self.seed)[0] for m in self.machines])
        self._state = self.model.steady_state(initial, t0)
        steps = np.arange(first, start_step, dtype=np.int64)
        self._advance(steps, self._noise(first, start_step)[0])

    def _noise(self, start_step: int, end_step: int) -> tuple[np.ndarray, np.ndarray]:
        first_block, last_block = start_step // NOISE_BLOCK, (end_step - 1) // NOISE_BLOCK
        parts = [self._noise_block(b) for b in range(first_block, last_block + 1)]
        offset = start_step - first_block * NOISE_BLOCK
        span = slice(offset, offset + end_step - start_step)
        normals = np.concatenate([p[0] for p in parts], axis=1)[:, span]
        ids = np.concatenate([p[1] for p in parts], axis=1)[:, span]
        return normals, ids

    def _noise_block(self, block: int) -> tuple[np.ndarray, np.ndarray]:
        if block not in self._noise_cache:
            normals, ids = [], []
            for m in self.machines:
                rng = np.random.default_rng([self.seed, 1, m.index, block])
                normals.append(rng.standard_normal((NOISE_BLOCK, NOISE_CHANNELS)))
                ids.append(rng.integers(0, 256, (NOISE_BLOCK, len(SENSORS), 16), dtype=np.uint8))
            self._noise_cache = {b: v for b, v in self._noise_cache.items() if b >= block - 1}
            self._noise_cache[block] = (np.stack(normals), np.stack(ids))
        return self._noise_cache[block]

    def _anomalies(self, start_step: int, end_step: int) -> list[Anomaly]:
        steps_per_day = DAY_S // self.interval_s
        first_day, last_day = start_step // steps_per_day - 1, (end_step - 1) // steps_per_day
        found = list(self.injected)
        for day in range(first_day, last_day + 1):
            if day not in self._day_anomalies:
                indices = [m.index for m in self.machines]
                self._day_anomalies = {d: v for d, v in self._day_anomalies.items() if d >= day - 2}
                self._day_anomalies[day] = scheduled_anomalies(
                    indices, day, self.seed, self.anomaly_rate, self.interval_s
                )
            found += self._day_anomalies[day]
        return found
