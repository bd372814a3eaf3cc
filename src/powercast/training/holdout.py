"""Score several forecasters on the same most recent holdout, with the metric code training uses."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from powercast.errors import PowercastError


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


def holdout_issue_times(frame: pd.DataFrame, hours: float, horizon: int, every: int = 5) -> list[pd.Timestamp]:
    """Issue times every `every` minutes over the last `hours`, leaving room for the full horizon to be observed."""
    end = frame["ts"].max() + pd.Timedelta(minutes=1)
    last_issue = (end - pd.Timedelta(minutes=horizon)).floor("min")
    first_issue = (end - pd.Timedelta(hours=hours)).ceil("min")
    if last_issue <= first_issue:
        raise PowercastError(f"the holdout of {hours:g} h is shorter than the {horizon}-minute horizon",
                             "use more hours (--hours)")
    return list(pd.date_range(first_issue, last_issue, freq=f"{every}min"))


def make_holdout(frame: pd.DataFrame, hours: float, horizon: int, every: int = 5) -> Holdout:
    if frame.empty:
        raise PowercastError("no readings in the holdout window", "ingest recent readings or use more hours (--hours)")
    return Holdout(frame, holdout_issue_times(frame, hours, horizon, every))


def evaluation_frame(forecast: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """The forecast frame with the actual power `y` of each target bucket (NaN where it is missing)."""
    actual = frame[["machine_id", "ts", "power"]].rename(columns={"power": "y"})
    actual = actual.assign(machine_id=actual["machine_id"].astype(str))
    out = forecast.assign(machine_id=forecast["machine_id"].astype(str)).merge(actual, on=["machine_id", "ts"],
                                                                               how="left")
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
    from powercast.models.registry import make_forecaster

    return make_forecaster("persistence", horizon=horizon).fit(holdout.frame)
