"""Realistic synthetic machine data for tests and benchmarks (seeded, no services needed).

Each machine follows a shift calendar (day shifts on weekdays, some machines run three shifts, weekends at
standby), scheduled breaks at fixed times, a warm-up ramp at shift start, a semi-regular duty cycle while
producing (phases of high and low load with jittered durations), a slowly drifting load level, rare
unplanned stops, first-order lag (motors do not jump) and sensor noise. Sensors are sampled every 10 s and
aggregated to the minute frame of `powercast.models.base` (mean, min, max, std, last, count per sensor).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.signal import lfilter

SAMPLE_S = 10
PER_MINUTE = 60 // SAMPLE_S
BREAKS = [(9 * 60 + 30, 15), (12 * 60, 30), (17 * 60 + 30, 15), (20 * 60, 15)]  # (start minute of day, length)
MACHINE_TYPES = ("press", "cnc_mill", "compressor", "injection_molder", "oven")


@dataclass(frozen=True)
class MachineProfile:
    machine_id: str
    machine_type: str
    rated_power_w: float
    shifts: int  # 2: 06:00-22:00, 3: around the clock on weekdays
    phases: tuple[tuple[float, float], ...]  # (load fraction, minutes) of one duty cycle
    standby: float
    idle: float


def make_profiles(n_machines: int, rng: np.random.Generator) -> list[MachineProfile]:
    profiles = []
    for i in range(n_machines):
        n_phases = int(rng.integers(2, 4))
        phases = tuple((float(rng.uniform(0.35, 0.95)), float(rng.uniform(1.5, 8.0))) for _ in range(n_phases))
        profiles.append(
            MachineProfile(
                machine_id=f"M-{i + 1:03d}",
                machine_type=MACHINE_TYPES[i % len(MACHINE_TYPES)],
                rated_power_w=float(rng.choice([5_000, 11_000, 22_000, 37_000, 55_000])),
                shifts=3 if i % 4 == 3 else 2,
                phases=phases,
                standby=float(rng.uniform(0.02, 0.05)),
                idle=float(rng.uniform(0.10, 0.20)),
            )
        )
    return profiles


def _schedule(minute_of_day: np.ndarray, weekday: np.ndarray, shifts: int) -> tuple[np.ndarray, np.ndarray]:
    """(in_shift, minutes since the shift block started) for each sample."""
    if shifts == 3:
        in_shift = weekday < 5
        since = np.where(in_shift, minute_of_day + 1440 * weekday, 0)
    else:
        in_shift = (weekday < 5) & (minute_of_day >= 360) & (minute_of_day < 1320)
        since = np.where(in_shift, minute_of_day - 360, 0)
    return in_shift, since


def _in_break(minute_of_day: np.ndarray) -> np.ndarray:
    out = np.zeros(minute_of_day.shape, dtype=bool)
    for start, length in BREAKS:
        out |= (minute_of_day >= start) & (minute_of_day < start + length)
    return out


def _duty_cycle(profile: MachineProfile, n: int, rng: np.random.Generator) -> np.ndarray:
    levels, lengths, total = [], [], 0
    while total < n:
        for load, minutes in profile.phases:
            samples = max(1, int(round(minutes * rng.uniform(0.85, 1.15) * 60 / SAMPLE_S)))
            levels.append(load)
            lengths.append(samples)
            total += samples
    return np.repeat(levels, lengths)[:n]


def _unplanned_stops(n: int, rng: np.random.Generator, per_day: float = 0.5) -> np.ndarray:
    stopped = np.zeros(n, dtype=bool)
    for start in rng.integers(0, n, rng.poisson(per_day * n / (1440 * PER_MINUTE))):
        stopped[start : start + int(rng.uniform(5, 30) * PER_MINUTE)] = True
    return stopped


def machine_signal(
    profile: MachineProfile, start: pd.Timestamp, n_samples: int, rng: np.random.Generator, load_scale: float = 1.0
) -> dict[str, np.ndarray]:
    """10-second samples of power (W), temperature, vibration and pressure for one machine."""
    ts = start + pd.to_timedelta(np.arange(n_samples) * SAMPLE_S, unit="s")
    minute_of_day = (ts.hour * 60 + ts.minute).to_numpy()
    weekday = ts.weekday.to_numpy()
    in_shift, since = _schedule(minute_of_day, weekday, profile.shifts)
    drift = np.clip(1 + np.cumsum(rng.normal(0, 0.002, n_samples)), 0.8, 1.15)
    drift = 1 + (drift - drift.mean())
    load = _duty_cycle(profile, n_samples, rng) * drift * load_scale
    warmup = np.clip(since / 12.0, 0, 1)  # 12-minute ramp after the shift starts
    load = np.where(since < 12, profile.idle + (0.5 - profile.idle) * warmup, load)
    load = np.where(_in_break(minute_of_day) | _unplanned_stops(n_samples, rng), profile.idle, load)
    load = np.where(in_shift, load, profile.standby)
    alpha = 1 - np.exp(-SAMPLE_S / 25.0)  # motors follow the set point with a ~25 s time constant
    load = lfilter([alpha], [1, alpha - 1], load, zi=[load[0] * (1 - alpha)])[0]
    power = (
        profile.rated_power_w * load * (1 + rng.normal(0, 0.02, n_samples))
        + rng.normal(0, 0.005, n_samples) * profile.rated_power_w
    )
    heat = lfilter(
        [1 - np.exp(-SAMPLE_S / 600)], [1, -np.exp(-SAMPLE_S / 600)], load, zi=[load[0] * np.exp(-SAMPLE_S / 600)]
    )[0]
    return {
        "power": np.clip(power, 0, None),
        "temperature": 22 + 45 * heat + rng.normal(0, 0.3, n_samples),
        "vibration": 0.3 + 4.0 * load * in_shift + np.abs(rng.normal(0, 0.15, n_samples)),
        "pressure": 5.0 + 1.5 * load + rng.normal(0, 0.05, n_samples),
    }


def _aggregate(values: np.ndarray, prefix: str) -> dict[str, np.ndarray]:
    per_minute = values.reshape(-1, PER_MINUTE)
    return {
        prefix: per_minute.mean(axis=1),
        f"{prefix}_min": per_minute.min(axis=1),
        f"{prefix}_max": per_minute.max(axis=1),
        f"{prefix}_std": per_minute.std(axis=1, ddof=1),
        f"{prefix}_last": per_minute[:, -1],
        f"{prefix}_count": np.full(len(per_minute), float(PER_MINUTE)),
    }


def minute_frame(
    days: float = 14,
    n_machines: int = 10,
    seed: int = 7,
    start: str = "2026-11-05",
    sensors: tuple[str, ...] = ("power", "temperature", "vibration", "pressure"),
    load_scale: dict[str, float] | None = None,
) -> pd.DataFrame:
    """A minute frame (contract of `powercast.models.base`) with machine attributes, sorted by machine and ts."""
    rng = np.random.default_rng(seed)
    t0 = pd.Timestamp(start, tz="UTC")
    n_minutes = int(days * 1440)
    parts = []
    for profile in make_profiles(n_machines, rng):
        scale = (load_scale or {}).get(profile.machine_id, 1.0)
        signal = machine_signal(profile, t0, n_minutes * PER_MINUTE, rng, load_scale=scale)
        cols: dict[str, object] = {
            "machine_id": profile.machine_id,
            "ts": pd.date_range(t0, periods=n_minutes, freq="min"),
        }
        for sensor in sensors:
            cols.update(_aggregate(signal[sensor], sensor))
        cols["machine_type"] = profile.machine_type
        cols["rated_power_w"] = profile.rated_power_w
        parts.append(pd.DataFrame(cols))
    return pd.concat(parts, ignore_index=True)


def long_readings(
    days: float = 2,
    n_machines: int = 3,
    seed: int = 7,
    every_s: int = 60,
    sensors: tuple[str, ...] = ("power",),
    start: str = "2026-11-05",
) -> pd.DataFrame:
    """Long-format readings (machine_id, sensor, ts, value) as a user's meter export would hold them."""
    rng = np.random.default_rng(seed)
    t0 = pd.Timestamp(start, tz="UTC")
    n_samples = int(days * 1440 * PER_MINUTE)
    stride = max(1, every_s // SAMPLE_S)
    parts = []
    for profile in make_profiles(n_machines, rng):
        signal = machine_signal(profile, t0, n_samples, rng)
        ts = t0 + pd.to_timedelta(np.arange(0, n_samples, stride) * SAMPLE_S, unit="s")
        for sensor in sensors:
            parts.append(
                pd.DataFrame(
                    {"machine_id": profile.machine_id, "sensor": sensor, "ts": ts, "value": signal[sensor][::stride]}
                )
            )
    return pd.concat(parts, ignore_index=True)
