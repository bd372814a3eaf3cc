"""Score several forecasters on the same most recent holdout, with the metric code training uses.

The holdout is only fair when no compared model was trained on it: `powercast train` leaves the most recent
hours out of training (`training_part`), and promotion starts the holdout after the newest training data of
the models it compares (`unseen_window`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from powercast.errors import PowercastError
from powercast.features.frame import MINUTE


@dataclass(frozen=True)
class Holdout:
    """The minute frame to score on and the issue times inside its last hours."""

    frame: pd.DataFrame
    issue_times: list[pd.Timestamp]

    @property
    def start(self) -> pd.Timestamp:
        return self.issue_times[0]

    @property
    def end(self) -> pd.Timestamp:
        return self.issue_times[-1]


def holdout_issue_times(
    frame: pd.DataFrame, hours: float, horizon: int, every: int = 5, not_before: pd.Timestamp | None = None
) -> list[pd.Timestamp]:
    """Issue times every `every` minutes over the last `hours` (and from `not_before` on), leaving room for the
    full horizon to be observed."""
    end = frame["ts"].max() + MINUTE
    last_issue = (end - pd.Timedelta(minutes=horizon)).floor("min")
    first_issue = (end - pd.Timedelta(hours=hours)).ceil("min")
    if not_before is not None:
        first_issue = max(first_issue, not_before.ceil("min"))
    if last_issue <= first_issue:
        raise PowercastError(
            f"the holdout from {first_issue} to the last reading ({end}) is shorter than the {horizon}-minute horizon",
            "use more hours (--hours) or let newer readings arrive",
        )
    return list(pd.date_range(first_issue, last_issue, freq=f"{every}min"))


def training_part(frame: pd.DataFrame, holdout_hours: float) -> pd.DataFrame:
    """The minute frame without its most recent `holdout_hours` (kept back to judge the model on); all of it
    for 0."""
    if holdout_hours <= 0 or frame.empty:
        return frame
    cut = frame["ts"].max() + MINUTE - pd.Timedelta(hours=holdout_hours)
    part = frame[frame["ts"] < cut]
    if part.empty:
        raise PowercastError(
            f"all the data falls inside the {holdout_hours:g} h kept back for promotion",
            "load more history or pass a smaller --holdout-hours",
        )
    return part


def unseen_window(until: pd.Timestamp, hours: float, trained_through: list[pd.Timestamp | None], horizon: int) -> float:
    """Hours of the holdout ending at `until`: at most `hours`, and starting after the newest training data of
    the compared models, so none of them is judged on minutes it was fitted on."""
    start = until - pd.Timedelta(hours=hours)
    newest = max((t for t in trained_through if t is not None), default=None)
    if newest is not None and newest >= start:
        start = newest + MINUTE
    unseen = (until - start) / pd.Timedelta(hours=1)
    if unseen * 60 < 2 * horizon:
        raise PowercastError(
            f"only {max(unseen * 60, 0):.0f} minutes of readings after the models' training data "
            f"(trained through {newest}): too few to judge them",
            "let newer readings arrive, or train with a larger --holdout-hours (it keeps the latest hours back)",
        )
    return unseen


def make_holdout(
    frame: pd.DataFrame, hours: float, horizon: int, every: int = 5, not_before: pd.Timestamp | None = None
) -> Holdout:
    if frame.empty:
        raise PowercastError("no readings in the holdout window", "ingest recent readings or use more hours (--hours)")
    return Holdout(frame, holdout_issue_times(frame, hours, horizon, every, not_before))


def evaluation_frame(forecast: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """The forecast frame with the actual power `y` of each target bucket (NaN where it is missing)."""
    actual = frame[["machine_id", "ts", "power"]].rename(columns={"power": "y"})
    actual = actual.assign(machine_id=actual["machine_id"].astype(str))
    out = forecast.assign(machine_id=forecast["machine_id"].astype(str)).merge(
        actual, on=["machine_id", "ts"], how="left"
    )
    return out


def score(forecaster, holdout: Holdout) -> dict[str, float]:
    """All training metrics of one forecaster's forecasts at the holdout's issue times."""
    from powercast.training.metrics import evaluate

    forecast = forecaster.predict(holdout.frame, issue_times=holdout.issue_times)
    result = evaluate(evaluation_frame(forecast, holdout.frame))
    return {k: float(v) if v is not None else np.nan for k, v in result.items()}


def persistence_baseline(holdout: Holdout, horizon: int):
    """The persistence forecaster. Its point forecast is the last value seen before each issue time, so fitting
    it on the holdout frame (which only sizes its band) does not touch the MAE it is compared on."""
    from powercast.models.catalog import make_forecaster

    return make_forecaster("persistence", horizon=horizon).fit(holdout.frame)
