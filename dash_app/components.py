"""Small layout builders shared by the pages (no data access, no callbacks)."""

from __future__ import annotations

from dash import html

STATE_CLASS = {"running": "st-running", "idle": "st-idle", "alarm": "st-alarm", "stale": "st-stale"}


def table(rows: list[dict], columns: list[str] | None = None, empty: str = "nothing to show", cls: str = "grid"):
    """A plain HTML table of `rows` (dicts), headers from `columns` (default: the first row's keys)."""
    if not rows:
        return html.P(empty, className="muted")
    columns = columns or list(rows[0])
    head = html.Thead(html.Tr([html.Th(c) for c in columns]))
    body = html.Tbody([html.Tr([html.Td(_cell(r.get(c))) for c in columns]) for r in rows])
    return html.Table([head, body], className=cls)


def _cell(value):
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 100 else f"{value:,.0f}"
    return value


def state_badge(state: str):
    return html.Span(state, className=f"badge {STATE_CLASS.get(state, '')}")


def notice(text: str, kind: str = "info"):
    return html.Div(text, className=f"notice notice-{kind}")
