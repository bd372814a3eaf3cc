"""Review: matured forecasts to label (correct, or incorrect with a reason) with keyboard shortcuts; labels are
stored with who and when, and changing one keeps the earlier one in the history."""

from __future__ import annotations

from dash import ALL, Input, Output, State, dcc, html, no_update
from dash import callback_context as cbx

from dash_app import ids
from dash_app.auth import current_user
from dash_app.components import notice, table
from dash_app.data import review as logic
from powercast.errors import PowercastError
from powercast.feedback import store
from powercast.feedback.users import refusal

PATH = "/review"
TITLE = "Review"
REFRESH_MS = 20_000
REASON_LABELS = {
    "sensor_fault": "sensor fault",
    "maintenance": "maintenance",
    "unusual_operation": "unusual operation",
    "model_wrong": "model wrong",
    "other": "other",
}


def layout(ctx, query: dict):
    buttons = [html.Button(["correct ", html.Kbd("1")], id=ids.REVIEW_CORRECT, className="btn btn-ok")]
    for i, (reason, button_id) in enumerate(ids.REVIEW_REASON_BUTTONS.items(), start=2):
        buttons.append(
            html.Button(
                [f"incorrect: {REASON_LABELS[reason]} ", html.Kbd(str(i))], id=button_id, className="btn btn-bad"
            )
        )
    buttons.append(html.Button(["skip ", html.Kbd("s")], id=ids.REVIEW_SKIP, className="btn"))
    return html.Div(
        [
            html.Div(
                [html.H2("Review"), html.Span("label matured forecasts: was the forecast right?", className="muted")],
                className="page-head",
            ),
            html.Div(
                [
                    html.Div(
                        [
                            html.H3("To label"),
                            html.Div(id=ids.REVIEW_QUEUE, className="queue"),
                            html.H3("Your recent labels (click to change)"),
                            html.Div(id=ids.REVIEW_RECENT, className="queue"),
                        ],
                        className="side",
                    ),
                    html.Div(
                        [
                            html.Div(id=ids.REVIEW_INFO, className="summary"),
                            dcc.Graph(id=ids.REVIEW_GRAPH, config={"displaylogo": False}),
                            html.Div(buttons, className="label-buttons"),
                            dcc.Textarea(
                                id=ids.REVIEW_COMMENT,
                                placeholder="comment (optional): what happened? Esc leaves the box, then 1-6 label",
                                className="comment",
                            ),
                            html.Div(id=ids.REVIEW_MESSAGE),
                            html.H3("Label history of this forecast"),
                            html.Div(id=ids.REVIEW_HISTORY),
                        ],
                        className="main",
                    ),
                ],
                className="two-cols",
            ),
            dcc.Store(id=ids.REVIEW_QUEUE_DATA, data=[]),
            dcc.Store(id=ids.REVIEW_SELECTED, data=None),
            dcc.Store(id=ids.REVIEW_SAVED, data=0),
            dcc.Interval(id=ids.REVIEW_INTERVAL, interval=REFRESH_MS),
        ],
        id="review-page",
    )


def _item(kind: str, key: str, text: str, sub: str, selected: bool):
    return html.Button(
        [html.Span(text), html.Span(sub, className="muted tiny")],
        id={"type": kind, "key": key},
        className="item selected" if selected else "item",
    )


def _clicked_key() -> str | None:
    """The key of the queue or recent-label item that was clicked (None when no item click caused this call)."""
    trigger = cbx.triggered_id
    if isinstance(trigger, dict) and trigger.get("type") in (ids.QUEUE_ITEM, ids.RECENT_ITEM):
        if any(t.get("value") for t in cbx.triggered):
            return trigger["key"]
    return None


def register(app, ctx) -> None:
    @app.callback(
        Output(ids.REVIEW_QUEUE_DATA, "data"),
        Output(ids.REVIEW_QUEUE, "children"),
        Output(ids.REVIEW_RECENT, "children"),
        Input(ids.REVIEW_INTERVAL, "n_intervals"),
        Input(ids.REVIEW_SAVED, "data"),
        State(ids.REVIEW_SELECTED, "data"),
    )
    def refresh_queue(_n, _saved, selected):
        user = current_user()
        if refusal(user, "view"):
            return no_update, no_update, no_update
        with ctx.db.connection() as conn:
            queue = store.review_queue(conn, ctx.now())
            recent = store.recent_labels(conn, limit=10, username=user.username)
        keys = [logic.key_of(r.machine_id, r.issue_ts) for r in queue.itertuples()]
        items = [
            _item(ids.QUEUE_ITEM, k, r.machine_id, f"issued {r.issue_ts:%H:%M} · v{r.model_version}", k == selected)
            for k, r in zip(keys, queue.itertuples())
        ] or [html.P("nothing to label: every matured forecast has a label", className="muted")]
        recent_items = [
            _item(
                ids.RECENT_ITEM,
                logic.key_of(r.machine_id, r.issue_ts),
                f"{r.machine_id} {r.issue_ts:%H:%M}",
                f"{r.verdict}{' · ' + r.reason.replace('_', ' ') if r.reason else ''}",
                logic.key_of(r.machine_id, r.issue_ts) == selected,
            )
            for r in recent.itertuples()
        ] or [html.P("no labels yet", className="muted")]
        return keys, [html.P(f"{len(keys)} waiting", className="muted tiny"), *items], recent_items

    @app.callback(
        Output(ids.REVIEW_SELECTED, "data"),
        Input({"type": ids.QUEUE_ITEM, "key": ALL}, "n_clicks"),
        Input({"type": ids.RECENT_ITEM, "key": ALL}, "n_clicks"),
        Input(ids.REVIEW_QUEUE_DATA, "data"),
        State(ids.REVIEW_SELECTED, "data"),
    )
    def select(_queue_clicks, _recent_clicks, queue, current):
        trigger = cbx.triggered_id if isinstance(cbx.triggered_id, str) else None
        chosen = logic.choose(trigger, _clicked_key(), queue or [], current)
        return no_update if chosen == current else chosen

    @app.callback(
        Output(ids.REVIEW_MESSAGE, "children"),
        Output(ids.REVIEW_SAVED, "data"),
        Output(ids.REVIEW_SELECTED, "data", allow_duplicate=True),
        Output(ids.REVIEW_COMMENT, "value"),
        Input(ids.REVIEW_CORRECT, "n_clicks"),
        *[Input(b, "n_clicks") for b in ids.REVIEW_REASON_BUTTONS.values()],
        Input(ids.REVIEW_SKIP, "n_clicks"),
        State(ids.REVIEW_SELECTED, "data"),
        State(ids.REVIEW_COMMENT, "value"),
        State(ids.REVIEW_QUEUE_DATA, "data"),
        State(ids.REVIEW_SAVED, "data"),
        prevent_initial_call=True,
    )
    def label(*args):
        selected, comment, queue, saved = args[-4:]
        button = cbx.triggered_id
        if not selected or not any(t.get("value") for t in cbx.triggered):
            return no_update, no_update, no_update, no_update
        if button == ids.REVIEW_SKIP:
            return "", no_update, logic.next_key(queue or [], selected), no_update
        outcome = save_label(ctx, selected, button, comment)
        if outcome is None:
            return notice("saved", "ok"), (saved or 0) + 1, _after_label(queue or [], selected), ""
        return notice(outcome, "error"), no_update, no_update, no_update

    @app.callback(
        Output(ids.REVIEW_GRAPH, "figure"),
        Output(ids.REVIEW_INFO, "children"),
        Output(ids.REVIEW_HISTORY, "children"),
        Input(ids.REVIEW_SELECTED, "data"),
        Input(ids.REVIEW_SAVED, "data"),
    )
    def show(selected, _saved):
        if refusal(current_user(), "view"):
            return no_update, no_update, no_update
        if not selected:
            return logic.review_figure(_empty()), "nothing selected", ""
        machine_id, issue_ts = logic.parse_key(selected)
        with ctx.db.connection() as conn:
            steps = store.forecast_vs_actual(conn, machine_id, issue_ts)
            history = store.label_history(conn, machine_id, issue_ts)
        rows = logic.history_rows(history)
        current = history.iloc[0].to_dict() if len(history) else None
        version = f"v{steps['model_version'].iloc[0]} ({steps['model_name'].iloc[0]})" if len(steps) else "?"
        info = [
            html.Span(id="review-key", **{"data-key": selected}),
            html.B(f"{machine_id} · issued {issue_ts:%Y-%m-%d %H:%M} UTC · by {version}"),
            html.Span(f" · {logic.forecast_error(steps)}"),
            html.Div(f"label: {logic.describe(current)}", id="review-current-label", className="small"),
        ]
        return logic.review_figure(steps), info, table(rows, empty="no label yet")


def _after_label(queue: list[str], selected: str) -> str:
    """Labelling from the queue moves on to the next forecast; re-labelling an old one stays on it (its history
    is what one wants to see then)."""
    return logic.next_key(queue, selected) if selected in queue else selected


def _empty():
    import pandas as pd

    return pd.DataFrame(columns=["ts", "yhat", "yhat_lo", "yhat_hi", "actual"])


def save_label(ctx, selected: str, button: str, comment: str | None) -> str | None:
    """Write the label `button` stands for on forecast `selected` as the current user; None, or why not."""
    user = current_user()
    refused = refusal(user, "label")
    if refused:
        return refused
    label = logic.label_for_button(button, comment)
    if label is None:
        return f"unknown button {button}"
    machine_id, issue_ts = logic.parse_key(selected)
    try:
        with ctx.db.connection() as conn:
            store.record_label(conn, user, machine_id, issue_ts, label)
    except PowercastError as exc:
        return str(exc)
    return None
