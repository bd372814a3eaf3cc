"""The Machine page's data: the last hours of every sensor, the current forecast and the one issued a horizon ago
(against what then happened), and which model version issued the forecasts in view; and the figure of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dash_app.data.fleet import SENSORS, UNITS
from powercast.names import FORECASTS_TABLE, MACHINES_TABLE, READINGS_TABLE

RANGES_HOURS = (1, 3, 6, 12, 24)
RAW_UP_TO_HOURS = 6  # longer ranges show one-minute means
HORIZON = timedelta(minutes=15)
BAND = "rgba(13, 110, 253, 0.18)"
PAST_BAND = "rgba(253, 126, 20, 0.18)"


@dataclass(frozen=True)
class MachineData:
    machine_id: str
    now: datetime
    hours: float
    readings: pd.DataFrame  # sensor, ts, value
    current: pd.DataFrame  # latest forecast's steps: ts, yhat, yhat_lo, yhat_hi, model_name, model_version, issue_ts
    past: pd.DataFrame  # the latest forecast issued at least a horizon ago, with `actual`
    versions: pd.DataFrame  # model_name, model_version, first_issue_ts, last_issue_ts, forecasts (in the range)


def machine_ids(conn) -> list[str]:
    with conn.cursor() as cur:
        cur.execute(f"SELECT machine_id FROM {MACHINES_TABLE} ORDER BY machine_id")
        out = [r[0] for r in cur.fetchall()]
    conn.rollback()
    return out


def _query(conn, sql: str, params: dict, columns: list[str]) -> pd.DataFrame:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    return pd.DataFrame(rows, columns=columns)


def load_machine(conn, machine_id: str, now: datetime, hours: float) -> MachineData:
    """The data function behind the Machine page's callback."""
    since = now - timedelta(hours=hours)
    p = {"m": machine_id, "since": since, "now": now}
    if hours <= RAW_UP_TO_HOURS:
        readings_sql = f"""SELECT sensor, ts, value FROM {READINGS_TABLE}
                          WHERE machine_id = %(m)s AND ts > %(since)s ORDER BY sensor, ts"""
    else:
        readings_sql = f"""SELECT sensor, date_trunc('minute', ts) AS ts, avg(value) FROM {READINGS_TABLE}
                          WHERE machine_id = %(m)s AND ts > %(since)s GROUP BY 1, 2 ORDER BY 1, 2"""
    readings = _query(conn, readings_sql, p, ["sensor", "ts", "value"])
    steps = ["step", "ts", "yhat", "yhat_lo", "yhat_hi", "model_name", "model_version", "issue_ts"]
    current = _query(
        conn,
        f"""SELECT step, ts, yhat, yhat_lo, yhat_hi, model_name, model_version, issue_ts FROM {FORECASTS_TABLE}
            WHERE machine_id = %(m)s AND issue_ts = (SELECT max(issue_ts) FROM {FORECASTS_TABLE}
                                                     WHERE machine_id = %(m)s AND issue_ts <= %(now)s)
            ORDER BY step""",
        p,
        steps,
    )
    past = _query(
        conn,
        f"""SELECT f.step, f.ts, f.yhat, f.yhat_lo, f.yhat_hi, f.model_name, f.model_version, f.issue_ts,
                   (SELECT avg(r.value) FROM {READINGS_TABLE} r WHERE r.machine_id = f.machine_id
                      AND r.sensor = 'power' AND r.ts >= f.ts AND r.ts < f.ts + interval '1 minute') AS actual
            FROM {FORECASTS_TABLE} f
            WHERE f.machine_id = %(m)s AND f.issue_ts = (SELECT max(issue_ts) FROM {FORECASTS_TABLE}
                                                         WHERE machine_id = %(m)s AND issue_ts <= %(matured)s)
            ORDER BY f.step""",
        {**p, "matured": now - HORIZON},
        [*steps, "actual"],
    )
    versions = _query(
        conn,
        f"""SELECT model_name, model_version, min(issue_ts), max(issue_ts), count(*) FROM {FORECASTS_TABLE}
            WHERE machine_id = %(m)s AND step = 1 AND issue_ts > %(since)s
            GROUP BY 1, 2 ORDER BY 3""",
        p,
        ["model_name", "model_version", "first_issue_ts", "last_issue_ts", "forecasts"],
    )
    conn.rollback()
    return MachineData(machine_id, now, hours, readings, current, past, versions)


def past_error(data: MachineData) -> float | None:
    """Mean absolute error of the forecast issued a horizon ago over the minutes that have happened."""
    if data.past.empty:
        return None
    err = (data.past["actual"].astype(float) - data.past["yhat"].astype(float)).abs().dropna()
    return float(err.mean()) if len(err) else None


def _band(fig, frame: pd.DataFrame, color: str, name: str, row: int = 1) -> None:
    x = list(frame["ts"]) + list(frame["ts"][::-1])
    y = list(frame["yhat_hi"]) + list(frame["yhat_lo"][::-1])
    fig.add_trace(
        go.Scatter(x=x, y=y, fill="toself", fillcolor=color, line={"width": 0}, name=name, hoverinfo="skip"),
        row=row,
        col=1,
    )


def machine_figure(data: MachineData) -> go.Figure:
    """Power with the current forecast (point and 10-90 % band) and the forecast issued a horizon ago, and the other
    three sensors below on the same time axis."""
    fig = make_subplots(
        rows=4,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.04,
        row_heights=[0.46, 0.18, 0.18, 0.18],
        subplot_titles=[f"power ({UNITS['power']})", *[f"{s} ({UNITS[s]})" for s in SENSORS[1:]]],
    )
    by_sensor = dict(tuple(data.readings.groupby("sensor"))) if len(data.readings) else {}
    power = by_sensor.get("power")
    if power is not None:
        fig.add_trace(
            go.Scatter(x=power["ts"], y=power["value"], name="power (actual)", line={"color": "#495057", "width": 1}),
            row=1,
            col=1,
        )
    if len(data.past):
        issued = pd.Timestamp(data.past["issue_ts"].iloc[0])
        label = f"issued {issued:%H:%M} by v{data.past['model_version'].iloc[0]}"
        _band(fig, data.past, PAST_BAND, f"band, {label}")
        fig.add_trace(
            go.Scatter(
                x=data.past["ts"],
                y=data.past["yhat"],
                name=f"forecast {label}",
                line={"color": "#fd7e14", "dash": "dash", "width": 2},
                hovertemplate="%{y:.0f} W<extra>" + label + "</extra>",
            ),
            row=1,
            col=1,
        )
    if len(data.current):
        issued = pd.Timestamp(data.current["issue_ts"].iloc[0])
        label = (
            f"issued {issued:%H:%M} by v{data.current['model_version'].iloc[0]} ({data.current['model_name'].iloc[0]})"
        )
        _band(fig, data.current, BAND, "10-90 % band (current)")
        fig.add_trace(
            go.Scatter(
                x=data.current["ts"],
                y=data.current["yhat"],
                name=f"forecast {label}",
                line={"color": "#0d6efd", "width": 2.5},
                hovertemplate="%{y:.0f} W<extra>" + label + "</extra>",
            ),
            row=1,
            col=1,
        )
    colors = {"temperature": "#dc3545", "vibration": "#6f42c1", "pressure": "#198754"}
    for i, sensor in enumerate(SENSORS[1:], start=2):
        part = by_sensor.get(sensor)
        if part is not None:
            fig.add_trace(
                go.Scatter(x=part["ts"], y=part["value"], name=sensor, line={"color": colors[sensor], "width": 1}),
                row=i,
                col=1,
            )
    end = data.now + HORIZON
    fig.update_xaxes(range=[data.now - timedelta(hours=data.hours), end])
    fig.add_vline(x=data.now, line={"color": "#adb5bd", "dash": "dot", "width": 1})
    fig.update_layout(
        height=760,
        margin={"l": 60, "r": 20, "t": 80, "b": 30},
        template="plotly_white",
        legend={"orientation": "h", "y": 1.03, "yanchor": "bottom", "x": 0},
        hovermode="x unified",
        uirevision=data.machine_id,
    )
    return fig


def summary_line(data: MachineData) -> str:
    parts = [f"{data.machine_id}: last {data.hours:g} h"]
    if len(data.current):
        parts.append(
            f"current forecast issued {pd.Timestamp(data.current['issue_ts'].iloc[0]):%H:%M} UTC "
            f"by v{data.current['model_version'].iloc[0]}"
        )
    else:
        parts.append("no forecast issued yet")
    err = past_error(data)
    if err is not None:
        parts.append(f"forecast issued 15 min ago: MAE {err:,.0f} W against what happened")
    return " · ".join(parts)
