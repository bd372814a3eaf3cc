"""The Review page's pure parts: forecast keys, which button means which label, where the queue goes next, and the
figure of one forecast against what happened. Queries and writes live in `powercast.feedback.store`."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import plotly.graph_objects as go

from dash_app import ids
from powercast.feedback.store import Label

KEY_SEPARATOR = "|"
SHORTCUTS = {  # key -> button id; shortcuts.js reads the same table (rendered into the page)
    "1": ids.REVIEW_CORRECT,
    **{str(i): button for i, button in enumerate(ids.REVIEW_REASON_BUTTONS.values(), start=2)},
    "s": ids.REVIEW_SKIP,
}


def key_of(machine_id: str, issue_ts) -> str:
    """A forecast's key in stores and component ids: 'M-001|2026-11-25T12:00:00+00:00'."""
    return f"{machine_id}{KEY_SEPARATOR}{pd.Timestamp(issue_ts).tz_convert('UTC').isoformat()}"


def parse_key(key: str) -> tuple[str, datetime]:
    machine_id, _, issue = key.rpartition(KEY_SEPARATOR)
    if not machine_id:
        raise ValueError(f"not a forecast key: {key!r}")
    return machine_id, pd.Timestamp(issue).to_pydatetime()


def label_for_button(button_id: str, comment: str | None) -> Label | None:
    """The label a review button stands for (None for a button that is not a label)."""
    if button_id == ids.REVIEW_CORRECT:
        return Label("correct", None, comment or "")
    for reason, button in ids.REVIEW_REASON_BUTTONS.items():
        if button == button_id:
            return Label("incorrect", reason, comment or "")
    return None


def next_key(queue: list[str], current: str | None) -> str | None:
    """The forecast to show after `current` was labelled or skipped: the next one in the queue, else the first
    other one, else None."""
    rest = [k for k in queue if k != current]
    if current in queue:
        after = queue[queue.index(current) + 1 :]
        if after:
            return after[0]
    return rest[0] if rest else None


def choose(triggered: str | None, clicked_key: str | None, queue: list[str], current: str | None) -> str | None:
    """The selection after an event: a click on a queue or recent-label item selects that forecast; a refreshed
    queue selects its first item only when nothing is selected."""
    if clicked_key:
        return clicked_key
    if triggered == ids.REVIEW_QUEUE_DATA and not current:
        return queue[0] if queue else None
    return current


def describe(label_row: dict | None) -> str:
    if not label_row:
        return "not labelled yet"
    reason = f" ({label_row['reason'].replace('_', ' ')})" if label_row.get("reason") else ""
    when = pd.Timestamp(label_row["labelled_at"]).tz_convert("UTC")
    return f"{label_row['verdict']}{reason} by {label_row['labelled_by']} at {when:%Y-%m-%d %H:%M} UTC"


def history_rows(history: pd.DataFrame) -> list[dict]:
    """Label history rows for the table: newest first, the current one marked."""
    rows = []
    for r in history.to_dict(orient="records"):
        rows.append(
            {
                "when": f"{pd.Timestamp(r['labelled_at']).tz_convert('UTC'):%Y-%m-%d %H:%M:%S}",
                "who": r["labelled_by"],
                "verdict": r["verdict"],
                "reason": (r["reason"] or "").replace("_", " "),
                "comment": r["comment"] or "",
                "status": "current" if r["superseded_at"] is None or pd.isna(r["superseded_at"]) else "superseded",
            }
        )
    return rows


def review_figure(steps: pd.DataFrame) -> go.Figure:
    """One forecast: point forecast and 10-90 % band against the minutes' actual mean power."""
    fig = go.Figure()
    if len(steps):
        x = list(steps["ts"]) + list(steps["ts"][::-1])
        fig.add_trace(
            go.Scatter(
                x=x,
                y=list(steps["yhat_hi"]) + list(steps["yhat_lo"][::-1]),
                fill="toself",
                fillcolor="rgba(13, 110, 253, 0.18)",
                line={"width": 0},
                name="10-90 % band",
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(x=steps["ts"], y=steps["yhat"], name="forecast", line={"color": "#0d6efd", "width": 2.5})
        )
        fig.add_trace(
            go.Scatter(
                x=steps["ts"],
                y=steps["actual"],
                name="actual (minute mean)",
                mode="lines+markers",
                line={"color": "#212529", "width": 2},
            )
        )
    fig.update_layout(
        height=360,
        template="plotly_white",
        margin={"l": 60, "r": 20, "t": 20, "b": 40},
        yaxis_title="power (W)",
        legend={"orientation": "h", "y": 1.12, "x": 0},
        hovermode="x unified",
    )
    return fig


def forecast_error(steps: pd.DataFrame) -> str:
    if steps.empty:
        return ""
    actual, yhat = steps["actual"].astype(float), steps["yhat"].astype(float)
    err = (actual - yhat).abs().dropna()
    inside = ((actual >= steps["yhat_lo"]) & (actual <= steps["yhat_hi"]))[actual.notna()]
    if not len(err):
        return "no actuals for these minutes"
    return f"MAE {err.mean():,.0f} W · {inside.mean():.0%} of minutes inside the band"
