"""One machine's readings -> its minute frame as plain arrays: the aggregation of `powercast.features.aggregate`
without a DataFrame, for scoring a single machine on request.

A forecast request for one machine carries about an hour of readings; building and grouping pandas frames for
them costs more than the model. `machine_minutes` runs the same steps as `minute_frame_from_readings` (clean,
first of repeated readings, per-minute statistics through `bucket_statistics`, sample-and-hold of coarse meters)
on numpy arrays, and `MachineMinutes.to_frame` gives the very frame `minute_frame_from_readings` builds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from powercast.errors import PowercastError
from powercast.features.aggregate import MINUTE_NS, bucket_statistics, hold_columns
from powercast.features.frame import ATTRIBUTES
from powercast.stream.events import SENSORS

log = logging.getLogger(__name__)
_KNOWN = sorted(set(SENSORS))  # sensor codes: positions in this list, so that code order is name order


@dataclass(frozen=True)
class MachineReadings:
    """The readings of one machine: parallel arrays of sensor names (as sent), UTC nanoseconds and values, and
    the machine's attributes (None when not sent)."""

    machine_id: str
    sensor: np.ndarray
    ns: np.ndarray
    value: np.ndarray
    machine_type: str | None = None
    rated_power_w: float | None = None


@dataclass(frozen=True)
class MachineMinutes:
    """One machine's minute frame: the columns of every sensor (`sensor`, `sensor_min`, ... `sensor_count`) on
    the regular grid of minutes from `first_minute` (minutes since the epoch), and its attributes (None or NaN
    when unknown)."""

    machine_id: str
    first_minute: int
    columns: dict[str, np.ndarray]
    machine_type: object = None
    rated_power_w: float = float("nan")

    def __len__(self) -> int:
        return len(next(iter(self.columns.values())))

    @property
    def bucket_ns(self) -> np.ndarray:
        """The buckets' starts in UTC nanoseconds."""
        return (self.first_minute + np.arange(len(self), dtype=np.int64)) * MINUTE_NS

    def to_frame(self, attributes: tuple[str, ...] = ATTRIBUTES) -> pd.DataFrame:
        """The minute frame (`machine_id`, `ts`, the sensor columns, then the named attributes)."""
        n = len(self)
        frame = pd.DataFrame(
            {
                "machine_id": np.full(n, self.machine_id, dtype=object),
                "ts": pd.to_datetime(self.bucket_ns, utc=True).astype("datetime64[ns, UTC]"),
                **self.columns,
            }
        )
        if "machine_type" in attributes:
            frame["machine_type"] = np.full(n, self.machine_type, dtype=object)
        if "rated_power_w" in attributes:
            frame["rated_power_w"] = np.full(n, np.nan if self.rated_power_w is None else self.rated_power_w)
        return frame


def machine_minutes(
    readings: MachineReadings, machine_type: object = None, rated_power_w: float | None = None
) -> MachineMinutes:
    """The minute frame of one machine's readings (`minute_frame_from_readings` on arrays), with the given
    attributes."""
    sensor, ns, value = _clean(readings)
    if not len(ns):
        raise PowercastError("no readings to aggregate", "supply rows with machine_id, sensor, ts and value")
    present, sensor = np.unique(sensor, return_inverse=True)  # codes of the sensors present, in name order
    names = [_KNOWN[code] for code in present]
    first, _, columns = bucket_statistics(np.zeros(len(ns), dtype=np.int64), 1, sensor, names, ns, value)
    hold_columns(columns, first[0] + np.arange(len(next(iter(columns.values()))), dtype=np.int64))
    rated = float("nan") if rated_power_w is None else float(rated_power_w)
    return MachineMinutes(readings.machine_id, int(first[0]), columns, machine_type, rated)


def _clean(readings: MachineReadings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sensor codes (positions in `_KNOWN`), nanoseconds and values of the known sensors' finite
    readings, sorted by (sensor, ts), repeated (sensor, ts) keeping the first sent (`clean_readings`)."""
    codes, names = pd.factorize(np.asarray(readings.sensor, dtype=object))
    normalised = [str(name).strip().lower() for name in names]  # each distinct name once, not every row
    unknown = sorted(set(normalised) - set(SENSORS))
    if unknown:
        log.warning("ignoring readings of unknown sensor(s) %s (known: %s)", unknown, list(SENSORS))
    code_of = np.asarray([_KNOWN.index(name) if name in _KNOWN else -1 for name in normalised], dtype=np.int64)
    sensor = code_of[codes]
    value = np.asarray(readings.value, dtype=float)
    keep = np.flatnonzero((sensor >= 0) & np.isfinite(value))
    sensor, ns, value = sensor[keep], np.asarray(readings.ns, dtype=np.int64)[keep], value[keep]
    order = np.lexsort((ns, sensor))  # stable: repeated keys end up adjacent, the first-sent one first
    sensor, ns, value = sensor[order], ns[order], value[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (sensor[1:] != sensor[:-1]) | (ns[1:] != ns[:-1])
    return sensor[first], ns[first], value[first]
