"""A tiny test-only forecaster implementing powercast.models.base.Forecaster, and readings to feed it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from powercast.models.base import Forecaster
from powercast.models.frame import FORECAST_COLUMNS


class LastValue(Forecaster):
    """Forecasts the last observed power (times `scale`) for every step; band = +-1.28 x one-step change std."""

    name = "last_value"

    def __init__(self, scale: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale
        self.spread_: float = 0.0

    def fit(self, frame: pd.DataFrame) -> LastValue:
        diffs = frame.groupby("machine_id")["power"].diff().abs()
        self.spread_ = float(np.nanstd(diffs)) if diffs.notna().any() else 0.0
        return self

    def predict(self, frame, issue_times=None) -> pd.DataFrame:
        rows = []
        for machine, part in frame.groupby("machine_id", sort=True):
            part = part.dropna(subset=["power"])
            times = [part["ts"].max() + pd.Timedelta(minutes=1)] if issue_times is None else list(issue_times)
            for issue in times:
                seen = part[part["ts"] < issue]
                last = float(seen["power"].iloc[-1]) * self.scale if len(seen) else np.nan
                for step in range(1, self.horizon + 1):
                    rows.append(
                        (
                            str(machine),
                            issue,
                            step,
                            issue + pd.Timedelta(minutes=step - 1),
                            last,
                            last - 1.28 * self.spread_,
                            last + 1.28 * self.spread_,
                        )
                    )
        return pd.DataFrame(rows, columns=FORECAST_COLUMNS)

    def params(self) -> dict:
        return {**super().params(), "scale": self.scale}


def long_readings(
    machines: int = 2, minutes: int = 90, end: str = "2026-11-25 12:00", every_s: int = 10, seed: int = 1
) -> pd.DataFrame:
    """Power and temperature readings every `every_s` seconds over the `minutes` before `end`."""
    rng = np.random.default_rng(seed)
    end_ts = pd.Timestamp(end, tz="UTC")
    ts = pd.date_range(end_ts - pd.Timedelta(minutes=minutes), end_ts, freq=f"{every_s}s", inclusive="left")
    parts = []
    for i in range(machines):
        level = 1000.0 * (i + 1)
        power = level + 200 * np.sin(np.arange(len(ts)) / 30) + rng.normal(0, 10, len(ts))
        for sensor, values in (("power", power), ("temperature", 40 + rng.normal(0, 0.2, len(ts)))):
            parts.append(pd.DataFrame({"machine_id": f"M-{i + 1:03d}", "sensor": sensor, "ts": ts, "value": values}))
    return pd.concat(parts, ignore_index=True)
