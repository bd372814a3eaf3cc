"""The one feature specification that drives training, backtesting and live scoring.

A `FeatureSpec` names every derived feature and the sliding-window shape. It is a frozen dataclass so it can
be hashed, logged (`to_dict`) and rebuilt (`from_dict`) next to a trained model: the model then scores with
exactly the features it was trained on.

Conventions (for the row at bucket `ts`, i.e. the feature row of a forecast issued at `ts + 1 min`):
- lag `k` is the target's value `k` minutes before the issue time: lag 1 is bucket `ts` itself;
- a moving window `w` covers the last `w` buckets `ts - (w - 1) .. ts`;
- delta `k` is `value(ts) - value(ts - k)`;
- `profile_slot` is the slot width in minutes of the learned time-of-week load profile the models look up at
  each future minute (`powercast.features.profile`); 0 turns it off.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields

OTHER_SENSORS = ("temperature", "vibration", "pressure")


HORIZON = 15  # one-minute steps every forecast covers


@dataclass(frozen=True)
class FeatureSpec:
    """What to derive from a minute frame, and the sliding-window shape."""

    target: str = "power"
    lags: tuple[int, ...] = (1, 2, 3, 5, 10, 15, 30, 60)
    windows: tuple[int, ...] = (5, 15, 60)
    deltas: tuple[int, ...] = (1, 5, 15)
    history: int = 60
    horizon: int = HORIZON
    sensors: tuple[str, ...] = OTHER_SENSORS
    sensor_windows: tuple[int, ...] = (5, 15)
    stuck_window: int = 10
    shift_starts: tuple[int, ...] = (6, 14, 22)
    profile_slot: int = 10

    def __post_init__(self) -> None:
        for name in ("lags", "windows", "deltas", "sensors", "sensor_windows", "shift_starts"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        positive = {
            "lags": self.lags,
            "windows": self.windows,
            "deltas": self.deltas,
            "sensor_windows": self.sensor_windows,
        }
        for name, values in positive.items():
            if any(int(v) != v or v < 1 for v in values):
                raise ValueError(f"FeatureSpec.{name} must hold positive whole minutes, got {values}")
        if self.history < 1 or self.horizon < 1 or self.stuck_window < 2:
            raise ValueError("FeatureSpec needs history >= 1, horizon >= 1 and stuck_window >= 2")
        if not self.shift_starts or any(not 0 <= h < 24 for h in self.shift_starts):
            raise ValueError(f"FeatureSpec.shift_starts must be hours 0-23, got {self.shift_starts}")
        if self.profile_slot < 0 or (self.profile_slot and 1440 % self.profile_slot):
            raise ValueError(f"FeatureSpec.profile_slot must be 0 (off) or divide a day, got {self.profile_slot}")
        if list(self.shift_starts) != sorted(set(self.shift_starts)):
            raise ValueError(f"FeatureSpec.shift_starts must be increasing, got {self.shift_starts}")

    @property
    def lookback(self) -> int:
        """Buckets (including the current one) a derived feature row depends on."""
        spans = [1, self.stuck_window]
        spans += list(self.lags) + list(self.windows) + [d + 1 for d in self.deltas]
        if self.sensors:
            spans += list(self.sensor_windows) + [d + 1 for d in self.deltas]
        return max(spans)

    @property
    def min_history(self) -> int:
        """Minutes of history a machine needs before it can be scored: the window or the lookback."""
        return max(self.history, self.lookback)

    def to_dict(self) -> dict:
        """Plain JSON-able dict (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict) -> FeatureSpec:
        """Rebuild a spec from `to_dict` output; unknown keys are refused so typos do not pass silently."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown FeatureSpec fields: {sorted(unknown)}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})

    def hash(self) -> str:
        """Short stable digest of the spec, to tell which features a model or snapshot used."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]
