"""Operators' labels in training: the minute frame to train on, the target weights its labels imply, and what the
MLflow run records about them.

For each forecast (machine, issue time T) whose current label is
- incorrect for `sensor_fault` or `maintenance`: the target minutes of that forecast, T .. T + (horizon - 1) min, are
  excluded from training targets (weight 0): no training sample is asked to predict them;
- incorrect for `model_wrong`: those minutes weigh `settings.feedback_model_wrong_weight` (default 3) as targets;
- correct, or incorrect for another reason: nothing changes.
Where windows overlap, exclusion wins, then the highest weight. Inputs (lags of those minutes) are left as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from powercast.config import Settings
from powercast.features.spec import HORIZON
from powercast.models.base import SAMPLE_WEIGHT_COLUMNS
from powercast.names import EXCLUDING_REASONS, FEEDBACK_REASONS, UPWEIGHTING_REASONS


@dataclass(frozen=True)
class FeedbackSummary:
    """What the labels did to one training set (logged to MLflow as `feedback.*`)."""

    counts: dict[str, int]  # labels.total, labels.correct, labels.incorrect, labels.incorrect.<reason>
    excluded_minutes: int
    upweighted_minutes: int
    rejected_rate: float | None  # share of labelled forecasts marked incorrect (None: no labels)
    rejected_rate_by_version: dict[str, float] = field(default_factory=dict)

    def metrics(self) -> dict[str, float]:
        out = {f"feedback.{k}": float(v) for k, v in self.counts.items()}
        out["feedback.excluded_minutes"] = float(self.excluded_minutes)
        out["feedback.upweighted_minutes"] = float(self.upweighted_minutes)
        if self.rejected_rate is not None:
            out["feedback.rejected_rate"] = self.rejected_rate
        for version, rate in self.rejected_rate_by_version.items():
            out[f"feedback.rejected_rate.v{version}"] = rate
        return out


@dataclass(frozen=True)
class TrainingData:
    frame: pd.DataFrame  # the minute frame (holdout removed)
    sample_weight: pd.DataFrame | None  # machine_id, ts, weight; None when no label changes anything
    feedback: FeedbackSummary


def label_counts(labels: pd.DataFrame) -> dict[str, int]:
    incorrect = labels[labels["verdict"] == "incorrect"]
    counts = {
        "labels.total": len(labels),
        "labels.correct": int((labels["verdict"] == "correct").sum()),
        "labels.incorrect": len(incorrect),
    }
    for reason in FEEDBACK_REASONS:
        counts[f"labels.incorrect.{reason}"] = int((incorrect["reason"] == reason).sum())
    return counts


def feedback_weights(labels: pd.DataFrame, horizon: int = HORIZON, model_wrong_weight: float = 3.0) -> pd.DataFrame:
    """Target-minute weights (machine_id, ts, weight) implied by current labels (machine_id, issue_ts, verdict,
    reason): 0 inside forecasts rejected for an excluding reason, `model_wrong_weight` inside those rejected as
    model_wrong; minutes not listed weigh 1."""
    incorrect = labels[labels["verdict"] == "incorrect"]
    parts = []
    for reasons, weight in ((EXCLUDING_REASONS, 0.0), (UPWEIGHTING_REASONS, float(model_wrong_weight))):
        chosen = incorrect[incorrect["reason"].isin(reasons)]
        if chosen.empty:
            continue
        issue = pd.to_datetime(chosen["issue_ts"], utc=True)
        minutes = pd.DatetimeIndex(issue.dt.floor("min")).repeat(horizon) + pd.to_timedelta(
            np.tile(np.arange(horizon), len(chosen)), unit="min"
        )
        parts.append(
            pd.DataFrame(
                {"machine_id": np.repeat(chosen["machine_id"].astype(str).to_numpy(), horizon), "ts": minutes}
            ).assign(weight=weight)
        )
    if not parts:
        return pd.DataFrame(
            {c: pd.Series(dtype=t) for c, t in zip(SAMPLE_WEIGHT_COLUMNS, (object, "datetime64[ns, UTC]", float))}
        )
    weights = pd.concat(parts, ignore_index=True)
    excluded = weights.assign(zero=weights["weight"] == 0).groupby(["machine_id", "ts"])["zero"].any()
    highest = weights.groupby(["machine_id", "ts"])["weight"].max()
    out = highest.where(~excluded, 0.0).rename("weight").reset_index()
    return out[SAMPLE_WEIGHT_COLUMNS].sort_values(["machine_id", "ts"], ignore_index=True)


def apply_feedback(
    frame: pd.DataFrame, labels: pd.DataFrame, horizon: int = HORIZON, model_wrong_weight: float = 3.0
) -> TrainingData:
    """The training data for `frame` given the current `labels` (pure: no I/O)."""
    weights = feedback_weights(labels, horizon, model_wrong_weight)
    if len(weights):
        key = pd.MultiIndex.from_frame(frame[["machine_id", "ts"]].astype({"machine_id": str}))
        inside = pd.MultiIndex.from_frame(weights[["machine_id", "ts"]]).isin(key)
        weights = weights[inside].reset_index(drop=True)
    rates = {}
    if len(labels):
        versions = labels.assign(model_version=labels["model_version"].fillna("unknown").astype(str))
        rates = versions.groupby("model_version")["verdict"].apply(lambda v: float((v == "incorrect").mean())).to_dict()
    summary = FeedbackSummary(
        counts=label_counts(labels),
        excluded_minutes=int((weights["weight"] == 0).sum()),
        upweighted_minutes=int((weights["weight"] > 1).sum()),
        rejected_rate=float((labels["verdict"] == "incorrect").mean()) if len(labels) else None,
        rejected_rate_by_version=rates,
    )
    return TrainingData(frame, weights if len(weights) else None, summary)


def load_training_data(settings: Settings, start: datetime | None, holdout_hours: float) -> TrainingData:
    """The features since `start` without the latest `holdout_hours`, and the labels of forecasts issued over it."""
    from powercast.db.connection import connect
    from powercast.features.tables import load_minute_frame
    from powercast.feedback.store import labels_between
    from powercast.training.holdout import training_part

    frame = training_part(load_minute_frame(settings.app_database_url, start=start), holdout_hours)
    conn = connect(settings.app_database_url)
    try:
        first, last = frame["ts"].min(), frame["ts"].max()
        labels = labels_between(conn, first - pd.Timedelta(minutes=HORIZON), last + pd.Timedelta(minutes=1))
    finally:
        conn.close()
    return apply_feedback(frame, labels, HORIZON, settings.feedback_model_wrong_weight)
