"""Labels on matured forecasts (`forecast_feedback`), their history, the review queue and the rejected rate.

A *forecast* here is one machine's issue at one minute (all its steps). A label is the verdict `correct` or
`incorrect` (with a reason) plus a comment, who gave it and when. Labels are append-only: changing one marks the
earlier row superseded (`superseded_at`, `superseded_by`) and inserts the new one, so `label_history` shows every
verdict a forecast ever had while at most one is current. Every statement is parameterized.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandas as pd

from powercast.errors import PowercastError
from powercast.feedback.users import User
from powercast.names import FEATURES_TABLE, FEEDBACK_REASONS, FORECAST_FEEDBACK_TABLE, FORECASTS_TABLE, VERDICTS

HORIZON_MINUTES = 15  # a forecast has matured once its last step's minute has passed
LABEL_COLUMNS = [
    "id",
    "machine_id",
    "issue_ts",
    "verdict",
    "reason",
    "comment",
    "model_name",
    "model_version",
    "labelled_by",
    "labelled_at",
    "superseded_at",
    "superseded_by",
]


@dataclass(frozen=True)
class Label:
    verdict: str
    reason: str | None = None
    comment: str = ""

    def check(self) -> Label:
        """The label with its reason normalised; a PowercastError when it is not a valid verdict."""
        if self.verdict not in VERDICTS:
            raise PowercastError(f"unknown verdict {self.verdict!r}", f"use one of: {', '.join(VERDICTS)}")
        reason = self.reason or None
        if reason is not None and reason not in FEEDBACK_REASONS:
            raise PowercastError(f"unknown reason {reason!r}", f"use one of: {', '.join(FEEDBACK_REASONS)}")
        if self.verdict == "incorrect" and reason is None:
            raise PowercastError("an incorrect forecast needs a reason", f"pick one of: {', '.join(FEEDBACK_REASONS)}")
        if self.verdict == "correct":
            reason = None
        return Label(self.verdict, reason, (self.comment or "").strip()[:2000])


def _frame(cur, columns: list[str] | None = None) -> pd.DataFrame:
    cols = columns or [d[0] for d in cur.description]
    return pd.DataFrame(cur.fetchall(), columns=cols)


def record_label(conn, user: User, machine_id: str, issue_ts: datetime, label: Label) -> int:
    """Store `user`'s label on the forecast (machine_id, issue_ts); the earlier label, if any, stays as history.
    Returns the new row's id. The forecast must exist and have matured."""
    label = label.check()
    with conn.cursor() as cur:
        cur.execute(
            f"SELECT model_name, model_version, max(ts) FROM {FORECASTS_TABLE} "  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
            "WHERE machine_id = %s AND issue_ts = %s GROUP BY model_name, model_version",
            (machine_id, issue_ts),
        )
        found = cur.fetchone()
        if found is None:
            conn.rollback()
            raise PowercastError(f"no forecast of {machine_id} issued at {issue_ts}", "pick one from the review queue")
        if found[2] + timedelta(minutes=1) > datetime.now(UTC):
            conn.rollback()
            raise PowercastError(
                f"the forecast of {machine_id} issued at {issue_ts} has not matured", "label it after its last minute"
            )
        cur.execute(
            f"UPDATE {FORECAST_FEEDBACK_TABLE} SET superseded_at = now() "  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
            "WHERE machine_id = %s AND issue_ts = %s AND superseded_at IS NULL RETURNING id",
            (machine_id, issue_ts),
        )
        earlier = cur.fetchone()
        cur.execute(
            f"""INSERT INTO {FORECAST_FEEDBACK_TABLE}
                (machine_id, issue_ts, verdict, reason, comment, model_name, model_version, user_id, labelled_by)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
            (machine_id, issue_ts, label.verdict, label.reason, label.comment, *found[:2], user.id, user.username),
        )
        new_id = int(cur.fetchone()[0])
        if earlier is not None:
            cur.execute(f"UPDATE {FORECAST_FEEDBACK_TABLE} SET superseded_by = %s WHERE id = %s", (new_id, earlier[0]))  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
    conn.commit()
    return new_id


def label_history(conn, machine_id: str, issue_ts: datetime) -> pd.DataFrame:
    """Every label the forecast had, newest first (the current one has no superseded_at)."""
    with conn.cursor() as cur:
        cur.execute(
            f"SELECT {', '.join(LABEL_COLUMNS)} FROM {FORECAST_FEEDBACK_TABLE} "  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
            "WHERE machine_id = %s AND issue_ts = %s ORDER BY labelled_at DESC, id DESC",
            (machine_id, issue_ts),
        )
        out = _frame(cur, LABEL_COLUMNS)
    conn.rollback()
    return out


def recent_labels(conn, limit: int = 20, username: str | None = None) -> pd.DataFrame:
    """The latest current labels (of `username` only, when given), newest first."""
    with conn.cursor() as cur:
        cur.execute(
            f"SELECT {', '.join(LABEL_COLUMNS)} FROM {FORECAST_FEEDBACK_TABLE} "  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
            "WHERE superseded_at IS NULL AND (%s::text IS NULL OR labelled_by = %s) "
            "ORDER BY labelled_at DESC, id DESC LIMIT %s",
            (username, username, limit),
        )
        out = _frame(cur, LABEL_COLUMNS)
    conn.rollback()
    return out


def review_queue(conn, now: datetime, hours: float = 24.0, limit: int = 50, machine_id: str | None = None):
    """Matured forecasts of the last `hours` that nobody has labelled yet, newest first: machine_id, issue_ts,
    model_name, model_version."""
    with conn.cursor() as cur:
        cur.execute(
            f"""SELECT f.machine_id, f.issue_ts, f.model_name, f.model_version
                FROM {FORECASTS_TABLE} f
                WHERE f.step = 1 AND f.issue_ts <= %(matured)s AND f.issue_ts > %(since)s
                  AND (%(machine)s::text IS NULL OR f.machine_id = %(machine)s)
                  AND NOT EXISTS (SELECT 1 FROM {FORECAST_FEEDBACK_TABLE} l
                                  WHERE l.machine_id = f.machine_id AND l.issue_ts = f.issue_ts)
                ORDER BY f.issue_ts DESC, f.machine_id LIMIT %(limit)s""",  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
            {
                "matured": now - timedelta(minutes=HORIZON_MINUTES),
                "since": now - timedelta(hours=hours),
                "machine": machine_id,
                "limit": limit,
            },
        )
        out = _frame(cur, ["machine_id", "issue_ts", "model_name", "model_version"])
    conn.rollback()
    return out


def forecast_vs_actual(conn, machine_id: str, issue_ts: datetime) -> pd.DataFrame:
    """One forecast's steps against what happened: step, ts, yhat, yhat_lo, yhat_hi, actual (the minute's mean
    power: `features_1m.power_mean`, else the mean of the raw readings in that minute), model_name, model_version."""
    with conn.cursor() as cur:
        cur.execute(
            f"""SELECT f.step, f.ts, f.yhat, f.yhat_lo, f.yhat_hi,
                       COALESCE(m.power_mean, (SELECT avg(r.value) FROM readings r
                                               WHERE r.machine_id = f.machine_id AND r.sensor = 'power'
                                                 AND r.ts >= f.ts AND r.ts < f.ts + interval '1 minute')) AS actual,
                       f.model_name, f.model_version
                FROM {FORECASTS_TABLE} f
                LEFT JOIN {FEATURES_TABLE} m ON m.machine_id = f.machine_id AND m.ts = f.ts
                WHERE f.machine_id = %s AND f.issue_ts = %s ORDER BY f.step""",  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
            (machine_id, issue_ts),
        )
        out = _frame(cur)
    conn.rollback()
    return out


def labels_between(conn, since: datetime | None, until: datetime | None) -> pd.DataFrame:
    """The current labels of forecasts issued in [since, until) (None: unbounded): machine_id, issue_ts, verdict,
    reason, model_version."""
    with conn.cursor() as cur:
        cur.execute(
            f"""SELECT machine_id, issue_ts, verdict, reason, model_version FROM {FORECAST_FEEDBACK_TABLE}
                WHERE superseded_at IS NULL
                  AND (%(since)s::timestamptz IS NULL OR issue_ts >= %(since)s)
                  AND (%(until)s::timestamptz IS NULL OR issue_ts < %(until)s)
                ORDER BY machine_id, issue_ts""",  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
            {"since": since, "until": until},
        )
        out = _frame(cur, ["machine_id", "issue_ts", "verdict", "reason", "model_version"])
    conn.rollback()
    return out


def rejected_rates(conn, since: datetime | None, until: datetime | None) -> pd.DataFrame:
    """Per model version: labelled forecasts (issued in [since, until)), how many operators marked incorrect,
    and the share (the operator-rejected rate)."""
    labels = labels_between(conn, since, until)
    if labels.empty:
        return pd.DataFrame({"model_version": [], "labelled": [], "rejected": [], "rate": []})
    labels["model_version"] = labels["model_version"].fillna("unknown")
    grouped = labels.assign(rejected=labels["verdict"].eq("incorrect")).groupby("model_version", sort=True)
    out = grouped.agg(labelled=("verdict", "size"), rejected=("rejected", "sum")).reset_index()
    out["rate"] = out["rejected"] / out["labelled"]
    return out


def rejected_rate(conn, since: datetime | None, until: datetime | None, model_version: str | None = None):
    """The share of labelled forecasts issued in [since, until) that operators marked incorrect, for one model
    version (None: all versions together); None when no forecast there was labelled."""
    rates = rejected_rates(conn, since, until)
    if model_version is not None:
        rates = rates[rates["model_version"] == str(model_version)]
    labelled = int(rates["labelled"].sum()) if len(rates) else 0
    return None if labelled == 0 else float(rates["rejected"].sum()) / labelled
