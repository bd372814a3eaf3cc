"""The alert rules' queries, evaluated with their threshold, fire on crafted anomalies and stay quiet otherwise.

Each rule is evaluated as Grafana would at the end of the simulated history: its query over its relative time
range, as the read-only role, then its threshold expression on each row (one row per alert instance).
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import numpy as np
import pytest
from psycopg2.extras import execute_values

from tests.grafana.conftest import alerting
from tests.grafana.run import passes, run

RULES = {rule["uid"]: rule for rule in alerting()["groups"][0]["rules"]}
UNITS = {"power": "W", "temperature": "°C", "vibration": "m/s²", "pressure": "bar"}


def firing(fleet, uid: str) -> set[tuple[str, ...]]:
    """Label values (text columns) of the instances the rule's condition holds for."""
    rule = RULES[uid]
    data = {d["refId"]: d for d in rule["data"]}
    query = data["A"]
    (condition,) = data[rule["condition"]]["model"]["conditions"]
    now = fleet.end + timedelta(seconds=5)
    window = timedelta(seconds=query["relativeTimeRange"]["from"])
    conn = fleet.reader()
    try:
        result = run(conn, query["model"]["rawSql"], now - window, now)
    finally:
        conn.close()
    text = [i for i, (_, oid) in enumerate(result.columns) if oid == 25]
    return {tuple(row[i] for i in text) for row in result.rows if passes(float(row[-1]), condition["evaluator"])}


@pytest.fixture
def crafted(grafana_fleet):
    """Insert rows for machines named GA-*; removed again after the test."""
    conn = grafana_fleet.admin()

    def machine(machine_id: str, machine_type: str, rated_power_w: float) -> None:
        with conn.cursor() as cur:
            cur.execute(
                "INSERT INTO machines (machine_id, machine_type, rated_power_w) VALUES (%s, %s, %s)",
                (machine_id, machine_type, rated_power_w),
            )
        conn.commit()

    def readings(machine_id: str, sensor: str, start_s: int, end_s: int, value, every_s: int = 10) -> None:
        """Readings every `every_s` from end-start_s to end-end_s (seconds before the history's end)."""
        times = [grafana_fleet.end - timedelta(seconds=s) for s in range(start_s, end_s, -every_s)]
        values = value(len(times)) if callable(value) else [value] * len(times)
        rows = [(machine_id, sensor, t, float(v), UNITS[sensor], str(uuid.uuid4())) for t, v in zip(times, values)]
        with conn.cursor() as cur:
            execute_values(cur, "INSERT INTO readings (machine_id, sensor, ts, value, unit, event_id) VALUES %s", rows)
        conn.commit()

    def forecasts(machine_id: str, minutes_before_end: range, yhat: float, half_band: float) -> None:
        rows = []
        for k in minutes_before_end:
            ts = grafana_fleet.end - timedelta(minutes=k)
            rows.append((machine_id, ts - timedelta(minutes=1), 2, ts, yhat, yhat - half_band, yhat + half_band))
        with conn.cursor() as cur:
            execute_values(
                cur,
                "INSERT INTO forecasts (machine_id, issue_ts, step, ts, yhat, yhat_lo, yhat_hi, model_name, "
                "model_version) VALUES %s",
                [(*r, "powercast-forecaster", "1") for r in rows],
            )
        conn.commit()

    yield type(
        "Crafted",
        (),
        {"machine": staticmethod(machine), "readings": staticmethod(readings), "forecasts": staticmethod(forecasts)},
    )
    with conn.cursor() as cur:
        for table in ("forecasts", "readings", "machines"):
            cur.execute(f"DELETE FROM {table} WHERE machine_id LIKE 'GA-%%'")
    conn.commit()
    conn.close()


@pytest.mark.parametrize("uid", sorted(RULES))
def test_no_rule_fires_on_the_simulated_fleet(grafana_fleet, uid):
    assert firing(grafana_fleet, uid) == set()


def test_overheating_fires_the_limit_rule_for_that_machine_and_sensor(grafana_fleet, crafted):
    crafted.machine("GA-HOT", "injection_molder", 60_000)  # temperature alarm limit 80 °C
    crafted.machine("GA-WARM", "injection_molder", 60_000)
    crafted.readings("GA-HOT", "temperature", 110, 0, 95.0)
    crafted.readings("GA-WARM", "temperature", 110, 0, 70.0)
    crafted.readings("GA-HOT", "power", 110, 0, 40_000.0)
    assert firing(grafana_fleet, "powercast-sensor-limit") == {("GA-HOT", "injection_molder", "temperature")}


def test_a_power_limit_is_a_share_of_the_machines_rated_power(grafana_fleet, crafted):
    crafted.machine("GA-SPIKE", "cnc_mill", 10_000)  # alarm at 1.25 x rated
    crafted.machine("GA-BIG", "cnc_mill", 20_000)
    crafted.readings("GA-SPIKE", "power", 110, 0, 14_000.0)
    crafted.readings("GA-BIG", "power", 110, 0, 14_000.0)
    assert firing(grafana_fleet, "powercast-sensor-limit") == {("GA-SPIKE", "cnc_mill", "power")}


def _steady(level: float, noise: float, seed: int):
    return lambda n: level + noise * np.random.default_rng(seed).standard_normal(n)


def test_a_temperature_jump_at_steady_power_fires_the_zscore_rule(grafana_fleet, crafted):
    crafted.machine("GA-Z", "hydraulic_press", 80_000)
    crafted.readings("GA-Z", "power", 3900, 0, _steady(40_000, 300, 1))
    crafted.readings("GA-Z", "vibration", 3900, 0, _steady(3.0, 0.05, 2))
    crafted.readings("GA-Z", "temperature", 3900, 120, _steady(40.0, 0.2, 3))
    crafted.readings("GA-Z", "temperature", 120, 0, 52.0)  # the last two complete minutes: +12 °C
    assert firing(grafana_fleet, "powercast-sensor-zscore") == {("GA-Z", "hydraulic_press", "temperature")}


def test_a_temperature_rise_that_follows_a_load_change_does_not(grafana_fleet, crafted):
    crafted.machine("GA-LOAD", "hydraulic_press", 80_000)
    crafted.readings("GA-LOAD", "power", 3900, 120, _steady(10_000, 300, 1))
    crafted.readings("GA-LOAD", "power", 120, 0, 70_000.0)  # the machine started a heavy job
    crafted.readings("GA-LOAD", "temperature", 3900, 120, _steady(30.0, 0.2, 3))
    crafted.readings("GA-LOAD", "temperature", 120, 0, 42.0)
    crafted.readings("GA-LOAD", "vibration", 3900, 120, _steady(2.0, 0.05, 2))
    crafted.readings("GA-LOAD", "vibration", 120, 0, 5.0)
    assert firing(grafana_fleet, "powercast-sensor-zscore") == set()


def test_a_machine_silent_for_ten_minutes_fires_the_stale_rule(grafana_fleet, crafted):
    crafted.machine("GA-QUIET", "air_compressor", 30_000)
    crafted.machine("GA-BRIEF-GAP", "air_compressor", 30_000)
    for sensor in UNITS:
        crafted.readings("GA-QUIET", sensor, 1800, 600, 1.0)
        crafted.readings("GA-BRIEF-GAP", sensor, 1800, 240, 1.0)  # 4 minutes quiet: not yet
    assert firing(grafana_fleet, "powercast-machine-stale") == {("GA-QUIET", "air_compressor")}


def test_power_outside_the_band_for_five_minutes_fires_the_band_rule(grafana_fleet, crafted):
    crafted.machine("GA-BAND", "cnc_mill", 20_000)
    crafted.machine("GA-BLIP", "cnc_mill", 20_000)
    for machine in ("GA-BAND", "GA-BLIP"):
        crafted.readings(machine, "power", 600, 0, 15_000.0)
        crafted.forecasts(machine, range(1, 11), yhat=9_000.0, half_band=1_000.0)
    # GA-BLIP's forecast was right until two minutes ago
    conn_fix = grafana_fleet.admin()
    with conn_fix.cursor() as cur:
        cur.execute(
            "UPDATE forecasts SET yhat = 15000, yhat_lo = 14000, yhat_hi = 16000 "
            "WHERE machine_id = 'GA-BLIP' AND ts < %s",
            (grafana_fleet.end - timedelta(minutes=2),),
        )
    conn_fix.commit()
    conn_fix.close()
    assert firing(grafana_fleet, "powercast-forecast-band") == {("GA-BAND", "cnc_mill")}
