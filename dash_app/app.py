"""The control center's Dash app: a shell (navigation, who is logged in) routing to the pages in `pages/`."""

from __future__ import annotations

from urllib.parse import parse_qs

from dash import Dash, Input, Output, dcc, html, no_update

from dash_app import auth, ids
from dash_app.airflow import AirflowClient
from dash_app.context import Context
from dash_app.db import Database
from dash_app.pages import fleet, machine, models, review
from powercast.config import Settings

PAGES = (fleet, machine, review, models)


def shell():
    return html.Div(
        [
            dcc.Location(id=ids.URL),
            html.Header(
                [
                    html.Span("powercast", className="brand"),
                    html.Nav(
                        [
                            dcc.Link(p.TITLE, href=p.PATH, className="nav-link", id=f"nav-{p.TITLE.lower()}")
                            for p in PAGES
                        ],
                        id=ids.NAV,
                    ),
                    html.Span(id=ids.WHO, className="who"),
                    html.A("log out", href="/logout", className="nav-link logout", id="logout"),
                ],
                className="topbar",
            ),
            html.Main(id=ids.PAGE, className="content"),
        ]
    )


def route(path: str | None) -> object | None:
    """The page module serving `path` (None: not found)."""
    return next((p for p in PAGES if p.PATH == (path or "/")), None)


def create_app(settings: Settings, db: Database | None = None, airflow: AirflowClient | None = None) -> Dash:
    ctx = Context(settings, db or Database(settings.app_database_url), airflow or AirflowClient.from_settings(settings))
    app = Dash(
        __name__,
        title="powercast control center",
        update_title=None,
        suppress_callback_exceptions=True,
        serve_locally=True,
    )
    auth.install(app.server, ctx.db, settings.dash_session_hours)
    app.layout = shell

    @app.callback(
        Output(ids.PAGE, "children"), Output(ids.WHO, "children"), Input(ids.URL, "pathname"), Input(ids.URL, "search")
    )
    def show_page(path, search):
        user = auth.current_user()
        if user is None:
            return no_update, no_update
        page = route(path)
        if page is None:
            return html.P(f"no page at {path}", className="muted"), f"{user.username} · {user.role}"
        query = {k: v[0] for k, v in parse_qs((search or "").lstrip("?")).items()}
        return page.layout(ctx, query), f"{user.username} · {user.role}"

    for page in PAGES:
        page.register(app, ctx)
    return app
