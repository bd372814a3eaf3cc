"""The Fleet page's pure parts: the state rule, filtering and paging, the sparkline."""

import base64
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from dash_app.data.fleet import PAGE_SIZE, fleet_states, forecast_note, machine_state, select_page, sparkline_svg

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
FRESH = NOW - timedelta(seconds=10)


def readings(power=None, temperature=40.0, vibration=2.0, pressure=5.0, ts=FRESH):
    out = {"temperature": (ts, temperature), "vibration": (ts, vibration), "pressure": (ts, pressure)}
    if power is not None:
        out["power"] = (ts, power)
    return out


@pytest.mark.parametrize(
    ("latest", "rated", "state", "rule_has"),
    [
        ({}, 10_000.0, "stale", "no reading ever"),
        (readings(8_000, ts=NOW - timedelta(minutes=5)), 10_000.0, "stale", "no reading for 5 min"),
        (readings(8_000, temperature=91.0), 10_000.0, "alarm", "temperature 91.0 °C ≥ 85"),
        (readings(8_000, vibration=9.5), 10_000.0, "alarm", "vibration 9.5"),
        (readings(12_000), 10_000.0, "alarm", "power 120.0% of rated"),
        (readings(6_000), 10_000.0, "running", "power 60.0% of rated ≥ 40%"),
        (readings(1_500), 10_000.0, "idle", "power 15.0% of rated < 40%"),
        (readings(1_500), None, "running", "rating unknown"),
        (readings(0.0), None, "idle", "power 0 W"),
        (readings(None), 10_000.0, "stale", "no power reading"),
    ],
)
def test_state_rule(latest, rated, state, rule_has):
    decided = machine_state(latest, rated, NOW)
    assert decided.state == state
    assert rule_has in decided.rule


def test_stale_wins_over_alarm_and_the_boundaries_are_inclusive():
    old_and_hot = readings(8_000, temperature=120.0, ts=NOW - timedelta(minutes=2))
    assert machine_state(old_and_hot, 10_000.0, NOW).state == "stale"
    assert machine_state(readings(4_000), 10_000.0, NOW).state == "running"
    assert machine_state(readings(3_996), 10_000.0, NOW).rule == "power 39.9% of rated < 40%"
    assert machine_state(readings(8_000, temperature=85.0), 10_000.0, NOW).state == "alarm"


def _states(n: int) -> pd.DataFrame:
    rows = []
    for i in range(n):
        state = ("running", "idle", "alarm", "stale")[i % 4]
        rows.append({"machine_id": f"M-{i:04d}", "state": state})
    return pd.DataFrame(rows)


def test_paging_puts_alarms_first_and_clamps_the_page():
    states = _states(103)
    rows, page, pages, matching = select_page(states, None, None, 0)
    assert len(rows) == PAGE_SIZE and pages == 5 and matching == 103 and page == 0
    assert rows["state"].iloc[0] == "alarm"
    last, page, _, _ = select_page(states, None, None, 99)
    assert page == 4 and len(last) == 103 - 4 * PAGE_SIZE
    idle, _, _, matching = select_page(states, "idle", "M-00", 0)
    assert set(idle["state"]) == {"idle"} and matching == 25  # M-0001 .. M-0097 step 4, below M-0100


def test_fleet_states_from_latest_rows():
    latest = pd.DataFrame(
        [
            ("A", "cnc", 10_000.0, "power", FRESH, 6_000.0),
            ("A", "cnc", 10_000.0, "temperature", FRESH, 40.0),
            ("B", "cnc", 10_000.0, "power", None, None),
        ],
        columns=["machine_id", "machine_type", "rated_power_w", "sensor", "ts", "value"],
    )
    states = fleet_states(latest, NOW).set_index("machine_id")
    assert states.loc["A", "state"] == "running" and states.loc["A", "power"] == 6_000.0
    assert states.loc["B", "state"] == "stale" and pd.isna(states.loc["B", "last_seen"])


def test_sparkline_draws_band_forecast_and_recent_power():
    ts = pd.date_range(NOW, periods=15, freq="min")
    forecast = pd.DataFrame(
        {"ts": ts, "yhat": 5.0, "yhat_lo": 4.0, "yhat_hi": 6.0, "model_version": "3", "issue_ts": NOW}
    )
    recent = pd.DataFrame({"ts": pd.date_range(NOW - timedelta(minutes=30), periods=30, freq="min"), "value": 5.5})
    svg = base64.b64decode(sparkline_svg(recent, forecast).split(",", 1)[1]).decode()
    assert svg.count("<polygon") == 1 and svg.count("<polyline") == 2
    assert sparkline_svg(None, None) is None
    assert forecast_note(forecast, NOW + timedelta(minutes=2)) == "v3 · issued 2 min ago · 4 W–6 W"
    assert forecast_note(None, NOW) == "no forecast"
