"""A machine's typical load by time of week: the known-future part of a forecast.

Shift starts and ends, breaks and weekends move power far more than anything in the last hour can announce,
and they repeat. `LoadProfile` learns, per machine, the mean relative power (power / the machine's scale) in
each `slot_minutes` slot of the day, separately for four day classes: Monday (plants start up after the
weekend), Tuesday-Friday, Saturday and Sunday. A forecast then looks the profile up at each future minute.

It is fitted on training data only, like the machine scales, and pickled with the model, so live scoring
needs no more than the usual short history. Training rows look it up with `leave_day_out=True`: their own
day's minutes are taken out of the mean, so the model never learns from a profile that contains its target.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

DAY_CLASSES = ("monday", "tuesday-friday", "saturday", "sunday")
_DAY_NS = 86_400 * 10**9
_MINUTE_NS = 60 * 10**9


def day_class(day_of_week: np.ndarray) -> np.ndarray:
    """Day class index per day of week (Monday = 0): 0 Monday, 1 Tuesday-Friday, 2 Saturday, 3 Sunday."""
    return np.select([day_of_week == 0, day_of_week <= 4, day_of_week == 5], [0, 1, 2], 3)


@dataclass
class LoadProfile:
    """Per machine: sums and counts of relative power per (day class, slot of day)."""

    slot_minutes: int
    sums: dict[str, np.ndarray] = field(default_factory=dict)  # machine -> [4, slots]
    counts: dict[str, np.ndarray] = field(default_factory=dict)  # machine -> [4, slots]
    by_day: pd.DataFrame | None = None  # (machine, day, slot) sums and counts, kept only for leave_day_out

    @property
    def slots(self) -> int:
        return 1440 // self.slot_minutes

    @classmethod
    def fit(
        cls, frame: pd.DataFrame, scales: dict[str, float], target: str = "power", slot_minutes: int = 10
    ) -> LoadProfile:
        """Learn the profile of every machine in a minute frame (NaN targets and unknown scales are skipped)."""
        if slot_minutes < 1 or 1440 % slot_minutes:
            raise ValueError(f"slot_minutes must divide a day into whole slots, got {slot_minutes}")
        profile = cls(slot_minutes)
        relative = frame[target].to_numpy(float) / frame["machine_id"].map(scales).to_numpy(float)
        keep = np.isfinite(relative)
        day, slot = profile._day_and_slot(frame["ts"].to_numpy(dtype="datetime64[ns]").view(np.int64)[keep])
        parts = pd.DataFrame(
            {"machine_id": frame["machine_id"].to_numpy()[keep], "day": day, "slot": slot, "value": relative[keep]}
        )
        by_day = parts.groupby(["machine_id", "day", "slot"], sort=True)["value"].agg(["sum", "count"])
        profile.by_day = by_day
        classes = _day_class_of(by_day.index.get_level_values("day").to_numpy())
        totals = by_day.assign(cls=classes).groupby(["machine_id", "cls", by_day.index.get_level_values("slot")])
        totals = totals[["sum", "count"]].sum()
        for machine, table in totals.groupby(level="machine_id"):
            sums, counts = np.zeros((len(DAY_CLASSES), profile.slots)), np.zeros((len(DAY_CLASSES), profile.slots))
            cls_index, slot_index = table.index.get_level_values(1), table.index.get_level_values(2)
            sums[cls_index, slot_index] = table["sum"].to_numpy()
            counts[cls_index, slot_index] = table["count"].to_numpy()
            profile.sums[str(machine)], profile.counts[str(machine)] = sums, counts
        return profile

    def compact(self) -> LoadProfile:
        """The profile without the per-day detail (what a fitted model keeps)."""
        return LoadProfile(self.slot_minutes, self.sums, self.counts, None)

    def lookup(
        self, machine_ids: np.ndarray, ts: pd.DatetimeIndex | np.ndarray, leave_day_out: bool = False
    ) -> np.ndarray:
        """Mean relative power of each machine at each instant's slot; NaN for unknown machines or empty slots.

        With `leave_day_out`, the instant's own day is taken out of the mean (for training rows)."""
        ts = pd.DatetimeIndex(ts)
        ts = ts.tz_convert("UTC").tz_localize(None) if ts.tz is not None else ts
        return self.lookup_ns(machine_ids, ts.asi8, leave_day_out)

    def lookup_ns(self, machine_ids: np.ndarray, ns: np.ndarray, leave_day_out: bool = False) -> np.ndarray:
        """`lookup` of instants given as UTC nanoseconds."""
        machine_ids = np.asarray(machine_ids).astype(str)
        day, slot = self._day_and_slot(ns)
        cls_index = _day_class_of(day)
        sums, counts = np.full(len(ns), np.nan), np.zeros(len(ns))
        for machine in np.unique(machine_ids):
            if machine not in self.sums:
                continue
            rows = machine_ids == machine
            sums[rows] = self.sums[machine][cls_index[rows], slot[rows]]
            counts[rows] = self.counts[machine][cls_index[rows], slot[rows]]
        if leave_day_out:
            if self.by_day is None:
                raise ValueError("leave_day_out needs the per-day detail: use the profile returned by fit")
            own = self.by_day.reindex(pd.MultiIndex.from_arrays([machine_ids, day, slot]))
            sums = sums - np.nan_to_num(own["sum"].to_numpy(float))
            counts = counts - np.nan_to_num(own["count"].to_numpy(float))
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(counts > 0, sums / np.where(counts > 0, counts, 1), np.nan)

    def _day_and_slot(self, ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Day since the epoch and slot of the day of instants given as UTC nanoseconds."""
        day = ns // _DAY_NS
        return day, (ns - day * _DAY_NS) // _MINUTE_NS // self.slot_minutes


def _day_class_of(day: np.ndarray) -> np.ndarray:
    """`day_class` of days since the epoch (1970-01-01, day 0, was a Thursday)."""
    return day_class((day + 3) % 7)
