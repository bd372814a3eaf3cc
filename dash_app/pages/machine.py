"""Machine: the last hours of power with the forecasts overlaid, and the other sensors on the same time axis."""

from __future__ import annotations

import pandas as pd
from dash import Input, Output, dcc, html, no_update

from dash_app import ids
from dash_app.auth import current_user
from dash_app.components import table
from dash_app.data.machine import RANGES_HOURS, load_machine, machine_figure, machine_ids, summary_line

PATH = "/machine"
TITLE = "Machine"
REFRESH_MS = 15_000


def layout(ctx, query: dict):
    with ctx.db.connection() as conn:
        machines = machine_ids(conn)
    chosen = query.get("id") if query.get("id") in machines else (machines[0] if machines else None)
    return html.Div(
        [
            html.Div([html.H2("Machine")], className="page-head"),
            html.Div(
                [
                    html.Div(
                        dcc.Dropdown(id=ids.MACHINE_SELECT, options=machines, value=chosen, clearable=False),
                        style={"width": "260px"},
                    ),
                    dcc.RadioItems(
                        id=ids.MACHINE_RANGE,
                        options=[{"label": f"{h} h", "value": h} for h in RANGES_HOURS],
                        value=3,
                        inline=True,
                        className="ranges",
                    ),
                ],
                className="toolbar",
            ),
            html.P(id=ids.MACHINE_SUMMARY, className="summary"),
            dcc.Loading(dcc.Graph(id=ids.MACHINE_GRAPH, config={"displaylogo": False}), delay_show=400),
            html.H3("Model versions that issued the forecasts in view"),
            html.Div(id=ids.MACHINE_VERSIONS),
            dcc.Interval(id=ids.MACHINE_INTERVAL, interval=REFRESH_MS),
        ]
    )


def version_rows(versions: pd.DataFrame) -> list[dict]:
    return [
        {
            "model": r["model_name"],
            "version": f"v{r['model_version']}",
            "first issue": f"{pd.Timestamp(r['first_issue_ts']).tz_convert('UTC'):%Y-%m-%d %H:%M}",
            "last issue": f"{pd.Timestamp(r['last_issue_ts']).tz_convert('UTC'):%Y-%m-%d %H:%M}",
            "forecasts": int(r["forecasts"]),
        }
        for r in versions.to_dict(orient="records")
    ]


def register(app, ctx) -> None:
    @app.callback(
        Output(ids.MACHINE_GRAPH, "figure"),
        Output(ids.MACHINE_SUMMARY, "children"),
        Output(ids.MACHINE_VERSIONS, "children"),
        Input(ids.MACHINE_SELECT, "value"),
        Input(ids.MACHINE_RANGE, "value"),
        Input(ids.MACHINE_INTERVAL, "n_intervals"),
    )
    def refresh(machine_id, hours, _n):
        if current_user() is None or not machine_id:
            return no_update, "no machine selected" if machine_id is None else no_update, no_update
        with ctx.db.connection() as conn:
            data = load_machine(conn, machine_id, ctx.now(), float(hours or 3))
        return (
            machine_figure(data),
            summary_line(data),
            table(version_rows(data.versions), empty="no forecasts in this range"),
        )
