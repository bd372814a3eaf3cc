"""Anomalies leave their signatures, and malformed events are exactly what the event contract rejects."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import numpy as np
import pytest

from powercast.simulator.anomalies import KINDS, Anomaly, scheduled_anomalies
from powercast.simulator.encoding import encode_block
from powercast.simulator.engine import FleetSimulator
from powercast.simulator.fleet import build_fleet
from powercast.simulator.malformed import MALFORMATIONS, malform
from powercast.stream.events import SENSORS, InvalidEvent, encode_event, parse_event

MONDAY_10H = datetime(2026, 11, 23, 10, tzinfo=UTC)
FLEET = build_fleet(3, seed=9)
WINDOW = 180  # 30 minutes at 10 s


def _with_and_without(anomaly: Anomaly, steps: int = 900):
    """(baseline, distorted) blocks; the episode starts 100 steps into the block."""
    baseline = FleetSimulator(FLEET, seed=9)
    k0 = baseline.step_at(MONDAY_10H)
    distorted = FleetSimulator(FLEET, seed=9)
    distorted.inject(
        Anomaly(anomaly.machine_index, anomaly.kind, k0 + 100, anomaly.steps, anomaly.magnitude, anomaly.sensor)
    )
    return baseline.block(k0, k0 + steps), distorted.block(k0, k0 + steps)


def _diff(sensor: str, base, bad, row: int = 1) -> np.ndarray:
    i = SENSORS.index(sensor)
    return bad.values[row, :, i] - base.values[row, :, i]


def test_overheating_heats_up_then_cools_down():
    base, bad = _with_and_without(Anomaly(1, "overheating", 0, WINDOW, magnitude=20))
    diff = _diff("temperature", base, bad)
    assert np.all(diff[:100] == 0)
    assert diff[100 + WINDOW - 1] > 0.9 * 20
    assert np.all(np.diff(diff[100 : 100 + WINDOW]) > 0)  # climbing while it lasts
    tau_steps = FLEET[1].kind.thermal_tau_minutes * 6
    after = diff[100 + WINDOW + int(tau_steps)]
    assert after == pytest.approx(diff[100 + WINDOW - 1] * np.exp(-1), rel=0.05)  # cools with the thermal lag
    assert np.all(_diff("power", base, bad) == 0) and np.all(_diff("temperature", base, bad, row=0) == 0)


def test_bearing_wear_drifts_vibration_up():
    base, bad = _with_and_without(Anomaly(1, "bearing_wear", 0, WINDOW, magnitude=3))
    diff = _diff("vibration", base, bad)
    assert np.all(diff[:100] == 0) and np.all(diff[100 + WINDOW :] == 0)
    assert np.all(np.diff(diff[100 : 100 + WINDOW]) > 0)
    assert diff[100 + WINDOW - 1] == pytest.approx(3)


def test_power_spikes_are_short_and_large():
    base, bad = _with_and_without(Anomaly(1, "power_spike", 0, 30, magnitude=1.0))
    diff = _diff("power", base, bad)
    spikes = np.flatnonzero(diff)
    assert spikes.min() == 100 and spikes.max() < 130
    assert 1 <= len(spikes) < 30
    assert diff[spikes].min() >= 0.6 * FLEET[1].rated_power_w


@pytest.mark.parametrize("sensor", SENSORS)
def test_a_stuck_sensor_repeats_one_value(sensor):
    base, bad = _with_and_without(Anomaly(1, "stuck_sensor", 0, WINDOW, sensor=sensor))
    i = SENSORS.index(sensor)
    stuck = bad.values[1, 100 : 100 + WINDOW, i]
    assert np.all(stuck == stuck[0]) and stuck[0] == base.values[1, 100, i]
    assert np.ptp(base.values[1, 100 : 100 + WINDOW, i]) > 0
    assert np.array_equal(bad.values[1, 100 + WINDOW :, i], base.values[1, 100 + WINDOW :, i])


def test_dropout_removes_the_machines_readings():
    base, bad = _with_and_without(Anomaly(1, "dropout", 0, 60))
    assert not bad.present[1, 100:160].any()
    assert bad.present[1, :100].all() and bad.present[1, 160:].all() and bad.present[[0, 2]].all()
    assert base.readings - bad.readings == 60 * len(SENSORS)
    keys = Counter(key for key, _ in encode_block(bad))
    assert keys[FLEET[1].machine_id.encode()] == keys[FLEET[0].machine_id.encode()] - 60 * len(SENSORS)


def test_malformed_episode_adds_broken_events_that_the_contract_rejects():
    base, bad = _with_and_without(Anomaly(1, "malformed", 0, WINDOW))
    assert np.array_equal(base.values, bad.values) and bad.readings == base.readings
    assert bad.malformed and all(row == 1 and 100 <= pos < 100 + WINDOW for row, pos, _, _ in bad.malformed)
    valid, rejected = 0, 0
    for _, value in encode_block(bad):
        try:
            parse_event(value)
            valid += 1
        except InvalidEvent:
            rejected += 1
    assert (valid, rejected) == (bad.readings, len(bad.malformed))


@pytest.mark.parametrize("kind", MALFORMATIONS)
@pytest.mark.parametrize("seed", range(5))
def test_every_malformation_is_rejected_by_parse_event(kind, seed):
    ts = datetime(2026, 11, 25, 11, 59, 50, tzinfo=UTC)
    sensor = SENSORS[seed % len(SENSORS)]
    valid = encode_event("M-001", sensor, 12.5 + seed, ts)
    parse_event(valid)
    with pytest.raises(InvalidEvent):
        parse_event(malform(valid, kind, np.random.default_rng(seed)))


def test_unknown_kinds_are_refused():
    with pytest.raises(ValueError, match="unknown anomaly kind"):
        Anomaly(0, "meltdown", 0, 10)
    with pytest.raises(ValueError, match="not in this fleet"):
        FleetSimulator(FLEET).inject(Anomaly(99, "dropout", 0, 10))


def test_scheduled_anomalies_follow_the_rate():
    assert scheduled_anomalies(list(range(50)), 20_000, seed=1, rate=0, interval_s=10) == []
    episodes = [a for day in range(20_000, 20_010) for a in scheduled_anomalies(list(range(20)), day, 1, 1.0, 10)]
    assert 150 < len(episodes) < 250  # 200 expected
    assert set(a.kind for a in episodes) == set(KINDS)
    assert all(20_000 * 8640 <= a.start_step < 20_010 * 8640 for a in episodes)
