"""Sensor physics: from planned load to the four readings, vectorised over machines (rows) and time (columns).

- power     = rated × (idle fraction + (1 − idle fraction) × effective load) + meter noise; the effective load
              is the planned load with a slow multiplicative AR(1) fluctuation (tool wear, material, operator),
              so the next minutes are partly predictable from the last ones and partly not;
- temperature follows power through a first-order lag (time constant per machine type) above a hall
              temperature that swings over the day;
- vibration rises with load and with bearing wear, which grows every day until the next service;
- pressure  follows load through a short lag.

Every filter carries its state across calls, so consecutive time ranges join without a seam.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter

from powercast.simulator.fleet import Machine
from powercast.stream.events import SENSORS

TEMPERATURE, VIBRATION, PRESSURE, POWER = (SENSORS.index(s) for s in ("temperature", "vibration", "pressure", "power"))
NOISE_CHANNELS = 5  # load fluctuation, power, temperature, vibration, pressure
FLUCTUATION_TAU_S = 240.0  # correlation time of the load fluctuation
FLUCTUATION_SIGMA = 0.06  # its stationary standard deviation, relative to load
PRESSURE_TAU_S = 60.0
MAX_LOAD = 1.15  # machines can briefly run above their rating


def first_order(x: np.ndarray, pole: float | np.ndarray, gain: float | np.ndarray, prev: np.ndarray) -> np.ndarray:
    """y[n] = pole·y[n−1] + gain·x[n] along axis 1, starting from y[−1] = prev; one pole for all rows."""
    pole = float(pole)
    y, _ = lfilter([gain], [1.0, -pole], x, axis=1, zi=(pole * prev)[:, None])
    return y


def lag_pole(interval_s: float, tau_s: float) -> float:
    """Pole of a first-order lag with time constant tau sampled every interval."""
    return float(np.exp(-interval_s / tau_s))


def ambient_temperature(machines: list[Machine], t: np.ndarray) -> np.ndarray:
    """Hall temperature: each machine's mean, ±2.5 °C over the day, warmest mid-afternoon (UTC)."""
    base = np.array([m.ambient_c for m in machines])[:, None]
    return base + 2.5 * np.sin(2 * np.pi * (t / 86_400 - 0.375))[None, :]


def bearing_wear(machines: list[Machine], t: np.ndarray) -> np.ndarray:
    """Vibration added by wear: grows linearly with days since the last bearing service (a sawtooth)."""
    rate = np.array([m.wear_per_day for m in machines])[:, None]
    interval = np.array([m.service_interval_days for m in machines])[:, None]
    phase = np.array([m.service_phase_days for m in machines])[:, None]
    days_since_service = np.mod(t[None, :] / 86_400 + phase, interval)
    return rate * days_since_service


@dataclass
class FilterState:
    """The memory of the filters at the last simulated step (one value per machine)."""

    fluctuation: np.ndarray
    temperature: np.ndarray  # noise-free temperature
    pressure_load: np.ndarray  # lagged load driving pressure


class SensorModel:
    """Per-machine constants in arrays, and the step from planned load to readings."""

    def __init__(self, machines: list[Machine], interval_s: float):
        self.machines = machines
        self.interval_s = interval_s
        kinds = [m.kind for m in machines]
        col = lambda values: np.array(values, dtype=float)[:, None]  # noqa: E731
        self.rated = col([m.rated_power_w for m in machines])
        self.idle = col([k.idle_fraction for k in kinds])
        self.temp_rise = col([k.temperature_rise_c for k in kinds])
        self.vib_idle = col([k.vibration_idle for k in kinds])
        self.vib_gain = col([k.vibration_gain for k in kinds])
        self.p_idle = col([k.pressure_idle_bar for k in kinds])
        self.p_full = col([k.pressure_full_bar for k in kinds])
        taus = np.array([k.thermal_tau_minutes * 60 for k in kinds])
        self.thermal_groups = {float(tau): np.flatnonzero(taus == tau) for tau in np.unique(taus)}
        self.fluct_pole = lag_pole(interval_s, FLUCTUATION_TAU_S)
        self.pressure_pole = lag_pole(interval_s, PRESSURE_TAU_S)

    def steady_state(self, load: np.ndarray, t0: float) -> FilterState:
        """Filter state of machines that have run at `load` (one value per machine) for a long time."""
        power = self.power(load[:, None], np.zeros((len(load), 1)))
        temp = (
            ambient_temperature(self.machines, np.array([t0]))[:, 0]
            + self.temp_rise[:, 0] * power[:, 0] / self.rated[:, 0]
        )
        return FilterState(np.zeros(len(load)), temp, load.copy())

    def power(self, effective_load: np.ndarray, noise: np.ndarray) -> np.ndarray:
        clean = self.rated * (self.idle + (1 - self.idle) * effective_load)
        return clean * (1 + 0.004 * noise)

    def readings(self, planned: np.ndarray, t: np.ndarray, noise: np.ndarray, state: FilterState) -> np.ndarray:
        """Readings (machines, steps, sensors) for planned load (machines, steps); advances `state` in place."""
        innovation_scale = FLUCTUATION_SIGMA * np.sqrt(1 - self.fluct_pole**2)
        fluct = first_order(noise[..., 0], self.fluct_pole, innovation_scale, state.fluctuation)
        effective = np.clip(planned * (1 + fluct), 0.0, MAX_LOAD)
        power = self.power(effective, noise[..., 1])

        target = ambient_temperature(self.machines, t) + self.temp_rise * power / self.rated
        temperature = np.empty_like(target)
        for tau, rows in self.thermal_groups.items():
            pole = lag_pole(self.interval_s, tau)
            temperature[rows] = first_order(target[rows], pole, 1 - pole, state.temperature[rows])

        pressure_load = first_order(effective, self.pressure_pole, 1 - self.pressure_pole, state.pressure_load)
        state.fluctuation = fluct[:, -1].copy()
        state.temperature = temperature[:, -1].copy()
        state.pressure_load = pressure_load[:, -1].copy()

        out = np.empty((*planned.shape, len(SENSORS)))
        out[..., POWER] = power
        out[..., TEMPERATURE] = temperature + 0.15 * noise[..., 2]
        vibration = self.vib_idle + self.vib_gain * effective**1.5 + bearing_wear(self.machines, t)
        out[..., VIBRATION] = vibration * (1 + 0.03 * noise[..., 3])
        pressure = self.p_idle + (self.p_full - self.p_idle) * pressure_load
        out[..., PRESSURE] = pressure + 0.01 * self.p_full * noise[..., 4]
        return out
