"""Simulator physics: determinism, schedules, thermal lag, wear, load coupling, forecastability."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from powercast.simulator.engine import FleetSimulator
from powercast.simulator.fleet import build_fleet
from powercast.simulator.physics import NOISE_CHANNELS, SensorModel, bearing_wear
from powercast.simulator.schedule import planned_load
from powercast.stream.events import SENSORS

MONDAY = datetime(2026, 11, 23, tzinfo=UTC)
DAY_STEPS = 8640  # at 10 s


def _first(fleet, **attrs):
    return next(m for m in fleet if all(getattr(m, k) == v for k, v in attrs.items()))


@pytest.fixture(scope="module")
def week():
    """A week (Monday..Sunday) of 12 machines, no anomalies."""
    fleet = build_fleet(12, seed=7)
    sim = FleetSimulator(fleet, seed=7, interval_s=10)
    k0 = sim.step_at(MONDAY)
    return fleet, sim.block(k0, k0 + 7 * DAY_STEPS)


def test_same_seed_same_readings_other_seed_other_readings():
    fleet = build_fleet(4, seed=1)
    k0 = FleetSimulator(fleet).step_at(MONDAY) + 3000
    a = FleetSimulator(fleet, seed=1, anomaly_rate=2).block(k0, k0 + 500)
    b = FleetSimulator(fleet, seed=1, anomaly_rate=2).block(k0, k0 + 500)
    c = FleetSimulator(fleet, seed=2, anomaly_rate=2).block(k0, k0 + 500)
    assert np.array_equal(a.values, b.values) and np.array_equal(a.event_ids, b.event_ids)
    assert np.array_equal(a.present, b.present) and a.malformed == b.malformed
    assert not np.allclose(a.values, c.values)


def test_time_can_be_cut_anywhere_and_fleet_size_does_not_matter():
    big, small = build_fleet(10, seed=3), build_fleet(3, seed=3)
    assert big[:3] == small
    k0 = FleetSimulator(small).step_at(MONDAY) + 2000
    whole = FleetSimulator(small, seed=3, anomaly_rate=3).block(k0, k0 + 1000)
    sim = FleetSimulator(small, seed=3, anomaly_rate=3)
    parts = [sim.block(k0, k0 + 1), sim.block(k0 + 1, k0 + 437), sim.block(k0 + 437, k0 + 1000)]
    np.testing.assert_allclose(np.concatenate([p.values for p in parts], axis=1), whole.values, rtol=1e-9)
    assert np.array_equal(np.concatenate([p.event_ids for p in parts], axis=1), whole.event_ids)
    from_big = FleetSimulator(big, seed=3, anomaly_rate=3).block(k0, k0 + 1000)
    np.testing.assert_allclose(from_big.values[:3], whole.values, rtol=1e-9)


def test_machine_types_have_different_ratings():
    fleet = build_fleet(40, seed=5)
    by_type = {}
    for m in fleet:
        by_type.setdefault(m.machine_type, []).append(m.rated_power_w)
    assert len(by_type) == 4
    means = sorted(np.mean(v) for v in by_type.values())
    assert means[-1] > 3 * means[0]


def test_weekends_nights_and_breaks_run_at_standby():
    fleet = build_fleet(40, seed=5)
    for schedule in ("day_shift", "two_shift"):
        m = _first(fleet, schedule=schedule)
        standby = m.kind.standby_load

        def at(day, hour, m=m):
            return planned_load(m, np.array([MONDAY.timestamp() + day * 86400 + hour * 3600]), 5)[0]

        assert at(5, 11) == pytest.approx(standby)  # Saturday
        assert at(6, 11) == pytest.approx(standby)  # Sunday
        assert at(1, 3) == pytest.approx(standby)  # Tuesday night
        assert at(2, 12.25) == pytest.approx(standby)  # lunch break
        working = [at(d, h) for d in range(5) for h in (8, 10.5, 11, 13)]
        assert np.mean(working) > standby + 0.3


def test_three_shift_machines_work_at_night():
    m = _first(build_fleet(40, seed=5), schedule="three_shift")
    t = MONDAY.timestamp() + 86400 + np.arange(0, 5 * 3600, 60)  # Tuesday 00:00-05:00
    assert planned_load(m, t, 5).mean() > m.kind.standby_load + 0.2


def test_load_ramps_instead_of_jumping(week):
    fleet, _ = week
    t = MONDAY.timestamp() + np.arange(0, 2 * 86400, 10.0)
    for m in fleet:
        load = planned_load(m, t, 7)
        assert np.abs(np.diff(load)).max() < 0.15, m.machine_type
        assert load.max() - load.min() > 0.4


def test_weekday_production_draws_more_power_than_the_weekend(week):
    fleet, block = week
    share = block.series("power") / np.array([m.rated_power_w for m in fleet])[:, None]
    weekday, weekend = share[:, : 5 * DAY_STEPS], share[:, 5 * DAY_STEPS :]
    day_machines = [i for i, m in enumerate(fleet) if m.schedule != "three_shift"]
    assert np.nanmean(weekday[day_machines]) > 2 * np.nanmean(weekend[day_machines])


def test_temperature_follows_power_with_the_thermal_lag():
    m = build_fleet(1, seed=11)[0]
    model = SensorModel([m], interval_s=10)
    n, jump = 2000, 200
    load = np.where(np.arange(n) < jump, 0.1, 0.9)[None, :]
    t = MONDAY.timestamp() + np.arange(n) * 10.0
    out = model.readings(load, t, np.zeros((1, n, NOISE_CHANNELS)), model.steady_state(np.array([0.1]), t[0]))
    power, temp = out[0, :, SENSORS.index("power")], out[0, :, SENSORS.index("temperature")]
    assert power[jump] == pytest.approx(power[-1])  # power steps at once
    rise = (temp[jump:] - temp[jump - 1]) / (temp[-1] - temp[jump - 1])
    reached = np.argmax(rise >= 1 - np.exp(-1)) * 10 / 60  # minutes to 63 %
    assert reached == pytest.approx(m.kind.thermal_tau_minutes, rel=0.15)
    assert temp[-1] - temp[0] > 10


def test_vibration_and_pressure_rise_with_load():
    m = build_fleet(1, seed=11)[0]
    model = SensorModel([m], interval_s=10)
    t = MONDAY.timestamp() + np.arange(600) * 10.0
    readings = {}
    for level in (0.2, 0.9):
        load = np.full((1, 600), level)
        state = model.steady_state(np.array([level]), t[0])
        readings[level] = model.readings(load, t, np.zeros((1, 600, NOISE_CHANNELS)), state)[0, -1]
    for sensor in ("vibration", "pressure", "power", "temperature"):
        assert readings[0.9][SENSORS.index(sensor)] > readings[0.2][SENSORS.index(sensor)], sensor


def test_bearing_wear_grows_until_service():
    m = build_fleet(1, seed=11)[0]
    days = np.arange(0, 3 * m.service_interval_days, 0.5)
    wear = bearing_wear([m], MONDAY.timestamp() + days * 86400)[0]
    steps = np.diff(wear)
    assert (steps > 0).mean() > 0.95  # grows almost always ...
    assert 1 <= (steps < 0).sum() <= 4  # ... except at the services
    assert wear.max() == pytest.approx(m.wear_per_day * m.service_interval_days, rel=0.02)


def test_fifteen_minutes_ahead_is_predictable_but_not_trivially(week):
    fleet, block = week
    share = block.series("power") / np.array([m.rated_power_w for m in fleet])[:, None]
    minutes = share.reshape(len(fleet), -1, 6).mean(axis=2)
    now, later = minutes[:, :-15].ravel(), minutes[:, 15:].ravel()
    persistence = np.corrcoef(now, later)[0, 1]
    next_minute = np.corrcoef(minutes[:, :-1].ravel(), minutes[:, 1:].ravel())[0, 1]
    assert 0.4 < persistence < 0.9  # history helps, but 15 minutes ahead it is far from exact
    assert next_minute > persistence
