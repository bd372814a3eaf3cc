"""Models: champion and challenger, forecast quality by horizon, the operator-rejected rate, the promotion
history, and buttons that start training or promotion (Airflow DAG runs) or roll back (admins only)."""

from __future__ import annotations

from datetime import timedelta

import plotly.graph_objects as go
from dash import Input, Output, State, dcc, html, no_update
from dash import callback_context as cbx
from plotly.subplots import make_subplots

from dash_app import ids
from dash_app.auth import current_user
from dash_app.components import notice, table
from dash_app.data import models as logic
from powercast.feedback import store
from powercast.feedback.users import refusal
from powercast.training.promotion_log import decisions

PATH = "/models"
TITLE = "Models"
REFRESH_MS = 30_000
RUN_POLL_MS = 3_000
QUALITY_HOURS = 24
REJECTED_DAYS = 7
PALETTE = ("#0d6efd", "#fd7e14", "#198754", "#6f42c1", "#dc3545", "#20c997")
BUTTON_ACTIONS = {ids.MODELS_TRAIN: "train", ids.MODELS_PROMOTE: "promote", ids.MODELS_ROLLBACK: "rollback"}


def layout(ctx, query: dict):
    user = current_user()
    admin_note = (
        None
        if user is not None and user.role == "admin"
        else html.P("Training, promotion and rollback need the admin role.", className="muted small")
    )
    return html.Div(
        [
            html.Div([html.H2("Models")], className="page-head"),
            html.Div(id=ids.MODELS_CARDS, className="cards"),
            html.Div(
                [
                    html.Button("start training", id=ids.MODELS_TRAIN, className="btn"),
                    html.Button("promote challenger", id=ids.MODELS_PROMOTE, className="btn"),
                    dcc.ConfirmDialogProvider(
                        html.Button("roll back champion", id=ids.MODELS_ROLLBACK, className="btn btn-bad"),
                        id=f"{ids.MODELS_ROLLBACK}-confirm",
                        message="Restore the previous champion now?",
                    ),
                    admin_note,
                ],
                className="toolbar",
            ),
            html.Div(id=ids.MODELS_ACTION_MESSAGE),
            html.Div(id=ids.MODELS_RUN_STATE, className="summary"),
            html.Div(
                [
                    html.Div(
                        [
                            html.H3(f"Forecast quality by horizon (last {QUALITY_HOURS} h)"),
                            dcc.Graph(id=ids.MODELS_QUALITY),
                        ],
                        className="main",
                    ),
                    html.Div(
                        [
                            html.H3(f"Operator-rejected rate (last {REJECTED_DAYS} days)"),
                            html.Div(id=ids.MODELS_REJECTED),
                        ],
                        className="side",
                    ),
                ],
                className="two-cols reverse",
            ),
            html.H3("Promotion history"),
            html.Div(id=ids.MODELS_HISTORY),
            dcc.Store(id=ids.MODELS_RUN, data=None),
            dcc.Interval(id=ids.MODELS_INTERVAL, interval=REFRESH_MS),
            dcc.Interval(id=ids.MODELS_RUN_INTERVAL, interval=RUN_POLL_MS, disabled=True),
        ]
    )


def quality_figure(quality) -> go.Figure:
    fig = make_subplots(rows=1, cols=2, subplot_titles=["MAE (W) by minutes ahead", "share inside the 10-90 % band"])
    for i, (version, part) in enumerate(quality.groupby("model_version", sort=True)):
        line = {"color": PALETTE[i % len(PALETTE)]}
        fig.add_trace(
            go.Scatter(x=part["step"], y=part["mae"], name=f"v{version}", mode="lines+markers", line=line), row=1, col=1
        )
        fig.add_trace(
            go.Scatter(
                x=part["step"],
                y=part["coverage"],
                name=f"v{version}",
                mode="lines+markers",
                line=line,
                showlegend=False,
            ),
            row=1,
            col=2,
        )
    fig.add_hline(y=0.8, line={"dash": "dot", "color": "#adb5bd"}, row=1, col=2)
    fig.update_layout(
        height=320,
        template="plotly_white",
        margin={"l": 50, "r": 20, "t": 40, "b": 40},
        legend={"title": {"text": "model"}},
    )
    fig.update_xaxes(title_text="minutes ahead", dtick=1)
    fig.update_yaxes(range=[0, 1], row=1, col=2)
    return fig


def card(c: logic.ModelCard):
    if c.version is None:
        return html.Div([html.H4(c.alias), html.P("none", className="muted")], className="card")
    metrics = c.metrics or {}
    lines = [
        html.Div([html.Span(k.replace("_", " "), className="muted"), html.B(_fmt(v))], className="kv")
        for k, v in metrics.items()
    ]
    return html.Div(
        [
            html.H4([c.alias, html.Span(f" v{c.version}", className="version")]),
            html.P(f"{c.model_name or '?'} · trained through {c.data_end or '?'}", className="small muted"),
            *lines,
        ],
        className="card",
        id=f"card-{c.alias}",
    )


def _fmt(value) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3f}"


def register(app, ctx) -> None:
    @app.callback(
        Output(ids.MODELS_CARDS, "children"),
        Output(ids.MODELS_QUALITY, "figure"),
        Output(ids.MODELS_REJECTED, "children"),
        Output(ids.MODELS_HISTORY, "children"),
        Input(ids.MODELS_INTERVAL, "n_intervals"),
    )
    def refresh(_n):
        if refusal(current_user(), "view"):
            return no_update, no_update, no_update, no_update
        now = ctx.now()
        with ctx.db.connection() as conn:
            quality = logic.quality_by_horizon(conn, now, QUALITY_HOURS)
            rates = store.rejected_rates(conn, now - timedelta(days=REJECTED_DAYS), now)
            history = decisions(conn, 20)
        cards, problem = logic.registry_cards(ctx.settings)
        top = [card(c) for c in cards] if cards else [notice(f"Registry unavailable: {problem}", "warn")]
        return (
            top,
            quality_figure(quality),
            table(logic.rejected_table(rates), empty="no labelled forecasts yet"),
            table(logic.history_table(history), empty="no promotion decisions recorded yet"),
        )

    @app.callback(
        Output(ids.MODELS_ACTION_MESSAGE, "children"),
        Output(ids.MODELS_RUN, "data"),
        Output(ids.MODELS_RUN_INTERVAL, "disabled"),
        Input(ids.MODELS_TRAIN, "n_clicks"),
        Input(ids.MODELS_PROMOTE, "n_clicks"),
        Input(f"{ids.MODELS_ROLLBACK}-confirm", "submit_n_clicks"),
        prevent_initial_call=True,
    )
    def act(_train, _promote, _rollback):
        trigger = cbx.triggered_id
        action = BUTTON_ACTIONS.get(trigger) or ("rollback" if trigger == f"{ids.MODELS_ROLLBACK}-confirm" else None)
        if action is None or not any(t.get("value") for t in cbx.triggered):
            return no_update, no_update, no_update
        result = logic.run_action(action, current_user(), ctx.airflow, lambda who: _rollback_now(ctx, who))
        box = notice(result.message, "ok" if result.ok else "error")
        return box, result.run, result.run is None

    @app.callback(
        Output(ids.MODELS_RUN_STATE, "children"),
        Output(ids.MODELS_RUN_INTERVAL, "disabled", allow_duplicate=True),
        Input(ids.MODELS_RUN_INTERVAL, "n_intervals"),
        State(ids.MODELS_RUN, "data"),
        prevent_initial_call=True,
    )
    def poll(_n, run):
        if refusal(current_user(), "view"):
            return no_update, True
        text, finished = logic.poll_run(run, ctx.airflow)
        return text, finished


def _rollback_now(ctx, who: str) -> str:
    from powercast.jobs.promotion import rollback_champion

    result = rollback_champion(ctx.settings, triggered_by=who, reason="rollback from the control center")
    rec = result.record
    return (
        f"rolled back: champion v{rec.champion_version} -> v{rec.new_champion_version} (decision #{result.record_id})"
    )
