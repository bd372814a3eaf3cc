"""Fleet: every machine with its latest readings, state (and the rule that decided it) and current forecast."""

from __future__ import annotations

from dash import Input, Output, State, dcc, html, no_update
from dash import callback_context as cbx

from dash_app import ids
from dash_app.auth import current_user
from dash_app.components import state_badge
from dash_app.data.fleet import STATES, FleetView, fleet_view

PATH = "/"
TITLE = "Fleet"
REFRESH_MS = 5_000


def layout(ctx, query: dict):
    return html.Div(
        [
            html.Div(
                [
                    html.H2("Fleet"),
                    html.Span(id=ids.FLEET_UPDATED, className="muted small"),
                ],
                className="page-head",
            ),
            html.Div(id=ids.FLEET_COUNTS, className="counts"),
            html.Div(
                [
                    html.Div(
                        dcc.Dropdown(
                            id=ids.FLEET_STATE,
                            options=[{"label": "all states", "value": "all"}]
                            + [{"label": s, "value": s} for s in STATES],
                            value="all",
                            clearable=False,
                            searchable=False,
                        ),
                        style={"width": "200px"},
                    ),
                    html.Div(
                        dcc.Input(
                            id=ids.FLEET_SEARCH,
                            placeholder="machine id contains…",
                            debounce=True,
                            className="control",
                        ),
                        style={"width": "240px"},
                    ),
                    html.Button("◀ previous", id=ids.FLEET_PREV, className="btn"),
                    html.Span(id=ids.FLEET_PAGE_LABEL, className="muted"),
                    html.Button("next ▶", id=ids.FLEET_NEXT, className="btn"),
                ],
                className="toolbar",
            ),
            html.Div(id=ids.FLEET_TABLE),
            dcc.Store(id=ids.FLEET_PAGE, data=0),
            dcc.Store(id=ids.FLEET_PAGES, data=1),
            dcc.Interval(id=ids.FLEET_INTERVAL, interval=REFRESH_MS),
        ]
    )


def page_after(triggered: str | None, page: int, pages_hint: int | None = None) -> int:
    """The page number after a click on previous/next, or 0 after the filter changed."""
    if triggered == ids.FLEET_PREV:
        return max(0, (page or 0) - 1)
    if triggered == ids.FLEET_NEXT:
        return (page or 0) + 1 if pages_hint is None else min((page or 0) + 1, pages_hint - 1)
    return 0


def render_rows(view: FleetView):
    head = html.Thead(
        html.Tr(
            [
                html.Th(h)
                for h in (
                    "machine",
                    "type",
                    "state",
                    "rule",
                    "power",
                    "temp °C",
                    "vib m/s²",
                    "press bar",
                    "last seen",
                    "next 15 min",
                )
            ]
        )
    )
    body = []
    for r in view.rows:
        seen = r["last_seen"]
        body.append(
            html.Tr(
                [
                    html.Td(dcc.Link(r["machine_id"], href=f"/machine?id={r['machine_id']}")),
                    html.Td(r["machine_type"] or "-"),
                    html.Td(state_badge(r["state"])),
                    html.Td(r["rule"], className="small"),
                    html.Td(_num(r["power"], " W")),
                    html.Td(_num(r["temperature"])),
                    html.Td(_num(r["vibration"])),
                    html.Td(_num(r["pressure"])),
                    html.Td(f"{seen:%H:%M:%S}" if seen is not None and seen == seen else "-", className="small"),
                    html.Td(
                        [
                            html.Img(src=r["sparkline"], className="spark") if r["sparkline"] else None,
                            html.Div(r["forecast_note"], className="muted tiny"),
                        ]
                    ),
                ],
                className=f"row-{r['state']}",
            )
        )
    return html.Table([head, html.Tbody(body)], className="grid fleet")


def _num(value, suffix: str = "") -> str:
    if value is None or value != value:
        return "-"
    return f"{value:,.0f}{suffix}" if abs(value) >= 100 else f"{value:.1f}{suffix}"


def register(app, ctx) -> None:
    @app.callback(
        Output(ids.FLEET_PAGE, "data"),
        Input(ids.FLEET_PREV, "n_clicks"),
        Input(ids.FLEET_NEXT, "n_clicks"),
        Input(ids.FLEET_STATE, "value"),
        Input(ids.FLEET_SEARCH, "value"),
        State(ids.FLEET_PAGE, "data"),
        State(ids.FLEET_PAGES, "data"),
        prevent_initial_call=True,
    )
    def change_page(_prev, _next, _state, _search, page, pages):
        return page_after(cbx.triggered_id, page, pages)

    @app.callback(
        Output(ids.FLEET_TABLE, "children"),
        Output(ids.FLEET_COUNTS, "children"),
        Output(ids.FLEET_PAGE_LABEL, "children"),
        Output(ids.FLEET_UPDATED, "children"),
        Output(ids.FLEET_PAGES, "data"),
        Input(ids.FLEET_INTERVAL, "n_intervals"),
        Input(ids.FLEET_PAGE, "data"),
        Input(ids.FLEET_STATE, "value"),
        Input(ids.FLEET_SEARCH, "value"),
    )
    def refresh(_n, page, state_filter, search):
        if current_user() is None:
            return no_update, no_update, no_update, no_update, no_update
        now = ctx.now()
        with ctx.db.connection() as conn:
            view = fleet_view(conn, now, state_filter, search, page or 0)
        counts = [
            html.Span([state_badge(s), html.B(f" {view.counts[s]}")], className="count", id=f"count-{s}")
            for s in STATES
        ]
        label = f"page {view.page + 1} of {view.pages} · {view.matching} machines"
        updated = f"updated {now:%H:%M:%S} UTC · refreshes every {REFRESH_MS // 1000} s"
        return render_rows(view), counts, label, updated, view.pages
