"""The simulated fleet: machine types (physical constants) and machines (one instance each, derived from a seed).

A machine's parameters depend only on `(seed, index)`, so machine `M-003` is the same machine whether the
fleet has 10 or 1,000 members.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

SCHEDULES = ("day_shift", "two_shift", "three_shift")


@dataclass(frozen=True)
class MachineType:
    """Physical constants shared by every machine of one kind."""

    name: str
    rated_power_w: tuple[float, float]  # range a machine's nameplate rating is drawn from
    idle_fraction: float  # power drawn at zero load, as a fraction of rated power
    standby_load: float  # load outside production hours
    setup_load: float  # load between batch jobs (tool change, loading parts)
    job_minutes: float  # median batch job length
    job_level: tuple[float, float]  # load range of a batch job
    ramp_minutes: float  # ramp-up and ramp-down of a batch job
    thermal_tau_minutes: float  # time constant of temperature following power
    temperature_rise_c: float  # steady temperature above ambient at rated power
    vibration_idle: float  # m/s² RMS at zero load
    vibration_gain: float  # m/s² added at full load
    pressure_idle_bar: float
    pressure_full_bar: float
    schedules: tuple[str, ...]  # production schedules this kind of machine runs on


MACHINE_TYPES: dict[str, MachineType] = {
    t.name: t
    for t in (
        MachineType(
            "cnc_mill",
            (11_000, 22_000),
            0.12,
            0.03,
            0.18,
            35,
            (0.45, 0.95),
            2,
            12,
            28,
            1.2,
            2.8,
            4.5,
            6.0,
            ("day_shift", "two_shift"),
        ),
        MachineType(
            "injection_molder",
            (35_000, 90_000),
            0.18,
            0.10,
            0.30,
            75,
            (0.60, 1.00),
            5,
            25,
            45,
            0.8,
            1.6,
            40.0,
            160.0,
            ("two_shift", "three_shift"),
        ),
        MachineType(
            "hydraulic_press",
            (45_000, 110_000),
            0.08,
            0.02,
            0.15,
            25,
            (0.50, 1.00),
            1,
            18,
            30,
            1.5,
            4.0,
            60.0,
            250.0,
            ("day_shift", "two_shift"),
        ),
        MachineType(
            "air_compressor",
            (15_000, 55_000),
            0.25,
            0.15,
            0.35,
            50,
            (0.40, 0.90),
            3,
            15,
            35,
            2.0,
            2.2,
            6.0,
            8.5,
            ("two_shift", "three_shift"),
        ),
    )
}


@dataclass(frozen=True)
class Machine:
    """One machine of the fleet; everything about it follows from the fleet seed and its index."""

    machine_id: str
    index: int
    machine_type: str
    rated_power_w: float
    schedule: str
    ambient_c: float  # mean hall temperature around the machine
    wear_per_day: float  # vibration added per day since the last bearing service (m/s²)
    service_interval_days: float  # bearings are serviced this often, resetting wear
    service_phase_days: float  # where in that cycle the machine was at the Unix epoch

    @property
    def kind(self) -> MachineType:
        return MACHINE_TYPES[self.machine_type]

    def attributes(self) -> dict:
        """Attributes stored with the machine (the `machines.attributes` column)."""
        data = asdict(self)
        for key in ("machine_id", "index", "machine_type", "rated_power_w"):
            data.pop(key)
        kind = self.kind
        data.update(thermal_tau_minutes=kind.thermal_tau_minutes, idle_fraction=kind.idle_fraction)
        return data


def machine_id(index: int) -> str:
    """`M-001`, `M-002`, ..., `M-1000`: the 1-based index, zero-padded to three digits."""
    return f"M-{index + 1:03d}"


def build_machine(index: int, seed: int) -> Machine:
    """Draw one machine's type and parameters from `(seed, index)`."""
    rng = np.random.default_rng([seed, 0, index])
    names = list(MACHINE_TYPES)
    kind = MACHINE_TYPES[names[int(rng.integers(len(names)))]]
    low, high = kind.rated_power_w
    return Machine(
        machine_id=machine_id(index),
        index=index,
        machine_type=kind.name,
        rated_power_w=float(round(rng.uniform(low, high), -2)),
        schedule=kind.schedules[int(rng.integers(len(kind.schedules)))],
        ambient_c=round(float(rng.uniform(18.0, 26.0)), 1),
        wear_per_day=round(float(rng.uniform(0.005, 0.03)), 4),
        service_interval_days=round(float(rng.uniform(60, 120)), 1),
        service_phase_days=round(float(rng.uniform(0, 120)), 1),
    )


def build_fleet(size: int, seed: int = 42) -> list[Machine]:
    """The fleet `M-001..M-<size>`; the same seed always gives the same machines."""
    if size < 1:
        raise ValueError(f"a fleet needs at least one machine, got {size}")
    return [build_machine(i, seed) for i in range(size)]
