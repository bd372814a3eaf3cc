"""The Fleet page's data: each machine's latest readings, its state by a stated rule, its current forecast.

State rule (first match wins), evaluated at `now`:
1. **stale**   no reading from the machine for `STALE_AFTER` (readings arrive every 10 s);
2. **alarm**   temperature, vibration or power (as a share of rated power) at or above its limit in `ALARM_LIMITS`;
3. **running** power at or above `RUNNING_SHARE` of rated power (any power > 0 when the rating is unknown);
4. **idle**    otherwise.
The rule that decided is returned as a sentence, shown next to the state.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from powercast.names import FORECASTS_TABLE, LATEST_READINGS_TABLE, MACHINES_TABLE, READINGS_TABLE

SENSORS = ("power", "temperature", "vibration", "pressure")
UNITS = {"power": "W", "temperature": "°C", "vibration": "m/s²", "pressure": "bar"}
STALE_AFTER = timedelta(minutes=2)
ALARM_LIMITS = {"temperature": 85.0, "vibration": 8.0, "power_share": 1.15}
RUNNING_SHARE = 0.4
STATES = ("alarm", "stale", "running", "idle")
PAGE_SIZE = 25


@dataclass(frozen=True)
class State:
    state: str
    rule: str


def machine_state(latest: dict, rated_power_w: float | None, now: datetime) -> State:
    """The state of one machine from its latest readings `latest` = {sensor: (ts, value)} (missing sensors absent)."""
    times = [ts for ts, _ in latest.values() if ts is not None]
    if not times:
        return State("stale", "no reading ever received")
    age = now - max(times)
    if age >= STALE_AFTER:
        return State("stale", f"no reading for {_duration(age)} (stale after {_duration(STALE_AFTER)})")
    value = {s: v for s, (_, v) in latest.items() if v is not None and not _nan(v)}
    for sensor in ("temperature", "vibration"):
        if sensor in value and value[sensor] >= ALARM_LIMITS[sensor]:
            return State("alarm", f"{sensor} {value[sensor]:.1f} {UNITS[sensor]} ≥ {ALARM_LIMITS[sensor]:g}")
    power = value.get("power")
    rated = rated_power_w if rated_power_w and rated_power_w > 0 else None
    if power is not None and rated and power >= ALARM_LIMITS["power_share"] * rated:
        return State("alarm", f"power {power / rated:.1%} of rated ≥ {ALARM_LIMITS['power_share']:.0%}")
    if power is None:
        return State("stale", "no power reading")
    if rated is None:
        return State("running", "power > 0 (rating unknown)") if power > 0 else State("idle", "power 0 W")
    share = power / rated
    if share >= RUNNING_SHARE:
        return State("running", f"power {share:.1%} of rated ≥ {RUNNING_SHARE:.0%}")
    below = math.floor(share * 1000) / 10  # rounded down, so the sentence never reads "40.0% < 40%"
    return State("idle", f"power {below:.1f}% of rated < {RUNNING_SHARE:.0%}")


def _nan(value) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


# -- queries ---------------------------------------------------------------------------------------------------
LATEST_SQL = f"""
SELECT m.machine_id, m.machine_type, m.rated_power_w, s.sensor, l.ts, l.value
FROM {MACHINES_TABLE} m
CROSS JOIN unnest(%(sensors)s::text[]) AS s(sensor)
LEFT JOIN {LATEST_READINGS_TABLE} l ON l.machine_id = m.machine_id AND l.sensor = s.sensor
ORDER BY m.machine_id
"""

FORECAST_SQL = f"""
SELECT f.machine_id, f.step, f.ts, f.yhat, f.yhat_lo, f.yhat_hi, f.model_version, f.issue_ts
FROM unnest(%(machines)s::text[]) AS m(machine_id)
JOIN LATERAL (
    SELECT issue_ts FROM {FORECASTS_TABLE} WHERE machine_id = m.machine_id ORDER BY issue_ts DESC LIMIT 1
) last ON true
JOIN {FORECASTS_TABLE} f ON f.machine_id = m.machine_id AND f.issue_ts = last.issue_ts
ORDER BY f.machine_id, f.step
"""

RECENT_POWER_SQL = f"""
SELECT machine_id, date_trunc('minute', ts) AS ts, avg(value) AS value FROM {READINGS_TABLE}
WHERE machine_id = ANY(%(machines)s) AND sensor = 'power' AND ts > %(since)s
GROUP BY 1, 2 ORDER BY 1, 2
"""


def load_latest(conn) -> pd.DataFrame:
    """One row per machine and sensor: the latest reading (ts, value NaN/None when there is none)."""
    with conn.cursor() as cur:
        cur.execute(LATEST_SQL, {"sensors": list(SENSORS)})
        rows = cur.fetchall()
    conn.rollback()
    return pd.DataFrame(rows, columns=["machine_id", "machine_type", "rated_power_w", "sensor", "ts", "value"])


def fleet_states(latest: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """One row per machine: type, rated power, each sensor's latest value, last seen, state and rule."""
    out = []
    for (machine, kind, rated), part in latest.groupby(["machine_id", "machine_type", "rated_power_w"], dropna=False):
        readings = {
            s: (ts, v) for s, ts, v in zip(part["sensor"], part["ts"], part["value"]) if ts is not None and ts == ts
        }
        rated_value = None if rated is None or _nan(rated) else float(rated)
        state = machine_state(readings, rated_value, now)
        seen = max((ts for ts, _ in readings.values()), default=None)
        row = {"machine_id": machine, "machine_type": kind, "rated_power_w": rated_value, "last_seen": seen}
        row.update({s: readings.get(s, (None, None))[1] for s in SENSORS})
        row.update({"state": state.state, "rule": state.rule})
        out.append(row)
    columns = ["machine_id", "machine_type", "rated_power_w", "last_seen", *SENSORS, "state", "rule"]
    return pd.DataFrame(out, columns=columns).sort_values("machine_id", kind="stable").reset_index(drop=True)


def load_forecasts(conn, machines: list[str]) -> pd.DataFrame:
    """The latest issued forecast (all steps) of each of `machines`."""
    with conn.cursor() as cur:
        cur.execute(FORECAST_SQL, {"machines": machines})
        rows = cur.fetchall()
    conn.rollback()
    return pd.DataFrame(
        rows, columns=["machine_id", "step", "ts", "yhat", "yhat_lo", "yhat_hi", "model_version", "issue_ts"]
    )


def load_recent_power(conn, machines: list[str], now: datetime, minutes: int = 30) -> pd.DataFrame:
    with conn.cursor() as cur:
        cur.execute(RECENT_POWER_SQL, {"machines": machines, "since": now - timedelta(minutes=minutes)})
        rows = cur.fetchall()
    conn.rollback()
    return pd.DataFrame(rows, columns=["machine_id", "ts", "value"])


# -- the page's view -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FleetView:
    rows: list[dict]  # the page's machines, with `sparkline` (an SVG data URI or None) and `forecast_note`
    counts: dict[str, int]  # machines per state (whole fleet)
    page: int  # 0-based, clamped
    pages: int
    matching: int  # machines matching the filter


def select_page(states: pd.DataFrame, state_filter: str | None, search: str | None, page: int, size: int = PAGE_SIZE):
    """(page rows, clamped page, page count, matching count) after filtering by state and machine id; alarms and
    stale machines first, then by id."""
    part = states
    if state_filter and state_filter != "all":
        part = part[part["state"] == state_filter]
    if search:
        part = part[part["machine_id"].str.contains(search.strip(), case=False, regex=False)]
    order = {s: i for i, s in enumerate(STATES)}
    part = part.assign(_o=part["state"].map(order)).sort_values(["_o", "machine_id"], kind="stable").drop(columns="_o")
    pages = max(1, math.ceil(len(part) / size))
    page = min(max(int(page or 0), 0), pages - 1)
    return part.iloc[page * size : (page + 1) * size], page, pages, len(part)


def fleet_view(
    conn, now: datetime, state_filter: str | None = None, search: str | None = None, page: int = 0
) -> FleetView:
    """Everything the Fleet page shows, for one refresh: the data function behind its callback."""
    states = fleet_states(load_latest(conn), now)
    counts = {s: int((states["state"] == s).sum()) for s in STATES}
    rows, page, pages, matching = select_page(states, state_filter, search, page)
    machines = rows["machine_id"].tolist()
    forecasts = load_forecasts(conn, machines) if machines else pd.DataFrame(columns=["machine_id"])
    recent = load_recent_power(conn, machines, now) if machines else pd.DataFrame(columns=["machine_id"])
    by_machine = dict(tuple(forecasts.groupby("machine_id"))) if len(forecasts) else {}
    recent_by = dict(tuple(recent.groupby("machine_id"))) if len(recent) else {}
    out = []
    for row in rows.to_dict(orient="records"):
        forecast = by_machine.get(row["machine_id"])
        row["sparkline"] = sparkline_svg(recent_by.get(row["machine_id"]), forecast)
        row["forecast_note"] = forecast_note(forecast, now)
        out.append(row)
    return FleetView(out, counts, page, pages, matching)


def forecast_note(forecast: pd.DataFrame | None, now: datetime) -> str:
    """'v4 · 1 min ago · 31.2-35.0 kW' or 'no forecast'."""
    if forecast is None or forecast.empty:
        return "no forecast"
    issue = forecast["issue_ts"].iloc[0]
    age = now - issue
    lo, hi = float(forecast["yhat_lo"].min()), float(forecast["yhat_hi"].max())
    return (
        f"v{forecast['model_version'].iloc[0]} · issued {_duration(max(age, timedelta(0)))} ago · {_kw(lo)}–{_kw(hi)}"
    )


def _kw(watts: float) -> str:
    return f"{watts / 1000:.1f} kW" if abs(watts) >= 1000 else f"{watts:.0f} W"


def sparkline_svg(recent: pd.DataFrame | None, forecast: pd.DataFrame | None, width: int = 180, height: int = 40):
    """A small SVG (data URI) of the last half hour of power (grey) and the forecast (blue) in its 10-90 % band
    (shaded); None when there is neither."""
    if (recent is None or recent.empty) and (forecast is None or forecast.empty):
        return None
    series = []
    if recent is not None and len(recent):
        series.append(pd.to_datetime(recent["ts"], utc=True))
    if forecast is not None and len(forecast):
        series.append(pd.to_datetime(forecast["ts"], utc=True))
    t = pd.concat(series)
    t0, t1 = t.min(), t.max()
    values = []
    if recent is not None and len(recent):
        values.append(recent["value"].astype(float))
    if forecast is not None and len(forecast):
        values += [forecast["yhat_lo"].astype(float), forecast["yhat_hi"].astype(float)]
    v = pd.concat(values).dropna()
    lo, hi = (float(v.min()), float(v.max())) if len(v) else (0.0, 1.0)
    if hi - lo < 1e-9:
        lo, hi = lo - 1, hi + 1
    span = max((t1 - t0).total_seconds(), 1.0)

    def x(ts) -> float:
        return 1 + (width - 2) * (pd.Timestamp(ts) - t0).total_seconds() / span

    def y(value) -> float:
        return height - 2 - (height - 4) * (float(value) - lo) / (hi - lo)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
    ]
    if forecast is not None and len(forecast):
        f = forecast.sort_values("ts")
        upper = [f"{x(a):.1f},{y(b):.1f}" for a, b in zip(f["ts"], f["yhat_hi"]) if b == b]
        lower = [f"{x(a):.1f},{y(b):.1f}" for a, b in zip(f["ts"][::-1], f["yhat_lo"][::-1]) if b == b]
        parts.append(f'<polygon points="{" ".join(upper + lower)}" fill="#9ec5fe" fill-opacity="0.6"/>')
        line = " ".join(f"{x(a):.1f},{y(b):.1f}" for a, b in zip(f["ts"], f["yhat"]) if b == b)
        parts.append(f'<polyline points="{line}" fill="none" stroke="#0d6efd" stroke-width="1.6"/>')
    if recent is not None and len(recent):
        r = recent.sort_values("ts")
        line = " ".join(f"{x(a):.1f},{y(b):.1f}" for a, b in zip(r["ts"], r["value"]) if b == b)
        parts.append(f'<polyline points="{line}" fill="none" stroke="#6c757d" stroke-width="1.2"/>')
    parts.append("</svg>")
    return "data:image/svg+xml;base64," + base64.b64encode("".join(parts).encode("utf-8")).decode("ascii")
