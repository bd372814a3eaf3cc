"""Production schedules: when a machine works and how hard.

A machine's load (0 = off, 1 = rated) is the product of two piecewise-linear curves per UTC day:
- the *shift envelope*: 1 inside production hours, 0 in breaks, at night and at weekends, with a short ramp at
  each edge; shift starts and ends move by a few minutes from day to day;
- the *batch jobs*: back-to-back jobs of random length and load level with ramp-up and ramp-down, separated
  by setup periods at a low load.

Both depend only on `(seed, machine index, day)`, so any time range can be computed on its own.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from powercast.simulator.fleet import MACHINE_TYPES, Machine

DAY_S = 86_400
EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)
EDGE_RAMP_S = 180  # machines spin up and down over three minutes around shifts and breaks
MAX_JOBS_PER_DAY = 160

# Production hours per weekday (Monday = 0) and breaks, in hours of the UTC day.
SHIFTS: dict[str, dict[int, tuple[tuple[float, float], ...]]] = {
    "day_shift": {d: ((7.0, 16.0),) for d in range(5)},
    "two_shift": {d: ((6.0, 22.0),) for d in range(5)},
    "three_shift": {
        0: ((6.0, 24.0),),
        1: ((0.0, 24.0),),
        2: ((0.0, 24.0),),
        3: ((0.0, 24.0),),
        4: ((0.0, 24.0),),
        5: ((0.0, 6.0),),
    },
}
BREAKS: dict[str, tuple[tuple[float, float], ...]] = {
    "day_shift": ((9.5, 9.75), (12.0, 12.5)),
    "two_shift": ((9.5, 9.75), (12.0, 12.5), (14.0, 14.25), (18.0, 18.5)),
    "three_shift": ((2.0, 2.5), (9.5, 9.75), (12.0, 12.5), (14.0, 14.25), (18.0, 18.5), (22.0, 22.25)),
}


def weekday(day: int) -> int:
    """Weekday (Monday = 0) of a day counted from the Unix epoch."""
    return (day + EPOCH_WEEKDAY) % 7


def production_segments(schedule: str, day: int, rng: np.random.Generator) -> list[tuple[float, float]]:
    """Seconds of the day the machine produces: shift hours minus breaks, edges jittered by a few minutes."""
    segments = []
    for start_h, end_h in SHIFTS[schedule].get(weekday(day), ()):
        start = start_h * 3600 + (rng.uniform(-600, 600) if start_h > 0 else 0.0)
        end = end_h * 3600 + (rng.uniform(-600, 600) if end_h < 24 else 0.0)
        cursor = start
        for b_start_h, b_end_h in BREAKS[schedule]:
            shift = rng.uniform(-180, 180)
            b_start, b_end = b_start_h * 3600 + shift, b_end_h * 3600 + shift
            if cursor < b_start and b_end < end:
                segments.append((cursor, b_start))
                cursor = b_end
        segments.append((cursor, end))
    return [(a, b) for a, b in segments if b - a > 2 * EDGE_RAMP_S]


def envelope_breakpoints(segments: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    """Piecewise-linear 0/1 curve over one day that ramps up into and down out of each segment."""
    running_at_midnight = bool(segments) and segments[0][0] <= 0
    xs, ys = [0.0], [1.0 if running_at_midnight else 0.0]
    for a, b in segments:
        up = 0.0 if a <= 0 else EDGE_RAMP_S  # a shift running through midnight has no edge there
        down = 0.0 if b >= DAY_S else EDGE_RAMP_S
        xs += [a, a + up, b - down, b]
        ys += [0.0 if up else 1.0, 1.0, 1.0, 0.0 if down else 1.0]
    xs.append(DAY_S)
    ys.append(1.0 if segments and segments[-1][1] >= DAY_S else 0.0)
    return np.asarray(xs), np.asarray(ys)


def job_breakpoints(machine: Machine, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Piecewise-linear load of one day's batch jobs: setup load, ramp up, job level, ramp down, setup..."""
    kind = machine.kind
    n = MAX_JOBS_PER_DAY
    durations = np.clip(rng.lognormal(np.log(kind.job_minutes), 0.45, n), 8, 240) * 60
    gaps = (2 + rng.exponential(kind.job_minutes * 0.2, n)) * 60
    levels = rng.uniform(*kind.job_level, n)
    starts = rng.uniform(0, gaps[0]) + np.cumsum(gaps + durations) - durations - gaps[0]
    keep = starts < DAY_S
    starts, durations, levels = starts[keep], durations[keep], levels[keep]
    ends = np.minimum(starts + durations, DAY_S)
    ramps = np.minimum(kind.ramp_minutes * 60, (ends - starts) / 3)
    xs = np.column_stack([starts, starts + ramps, ends - ramps, ends]).ravel()
    setup = kind.setup_load
    ys = np.column_stack([np.full_like(levels, setup), levels, levels, np.full_like(levels, setup)]).ravel()
    return np.concatenate([[0.0], xs, [DAY_S]]), np.concatenate([[setup], ys, [setup]])


@lru_cache(maxsize=4096)
def _day_curves(machine: Machine, day: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng([seed, 2, machine.index, day])
    env_x, env_y = envelope_breakpoints(production_segments(machine.schedule, day, rng))
    job_x, job_y = job_breakpoints(machine, rng)
    return env_x, env_y, job_x, job_y


def planned_load(machine: Machine, t: np.ndarray, seed: int) -> np.ndarray:
    """Load the production plan asks of `machine` at epoch seconds `t` (sorted): 0..1 before noise."""
    days = range(int(t[0] // DAY_S), int(t[-1] // DAY_S) + 1)
    parts = [_day_curves(machine, d, seed) for d in days]
    offsets = [d * DAY_S for d in days]
    env_x = np.concatenate([p[0] + o for p, o in zip(parts, offsets)])
    job_x = np.concatenate([p[2] + o for p, o in zip(parts, offsets)])
    envelope = np.interp(t, env_x, np.concatenate([p[1] for p in parts]))
    jobs = np.interp(t, job_x, np.concatenate([p[3] for p in parts]))
    standby = MACHINE_TYPES[machine.machine_type].standby_load
    return standby + envelope * (jobs - standby)
