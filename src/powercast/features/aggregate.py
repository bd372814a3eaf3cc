"""Long readings (machine_id, sensor, ts, value) of any sampling -> the minute frame on a regular grid.

This is the same aggregation the `features_1m` table holds (mean, min, max, sample std, last, count per
sensor and minute), done in pandas for user files and live scoring.

Coarser meters (a reading every 5 or 10 minutes, say) are held: a sensor whose measured buckets are usually
more than a minute apart keeps its last value in the following buckets, up to that spacing (sample-and-hold;
`hold_buckets`). The same rule applies to frames loaded from `features_1m` (`hold_coarse_sensors`). Those buckets
carry the held value in mean/min/max/last, std NaN and count 0, so the count still tells measured buckets from
held ones; a silence longer than the meter's spacing stays a gap (NaN). Holding instead of interpolating means
no bucket ever borrows a value from its future, so features built on held buckets cannot leak.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from powercast.errors import PowercastError
from powercast.features.frame import (
    ATTRIBUTES,
    MINUTE,
    SENSOR_ORDER,
    STATS,
    check_minute_frame,
    present_sensors,
    sensor_columns,
    to_utc,
)
from powercast.stream.events import SENSORS

log = logging.getLogger(__name__)
READING_COLUMNS = ["machine_id", "sensor", "ts", "value"]
_HELD = ("", "_min", "_max", "_last")
GROUP_COLUMNS = ["machine_id", "sensor", "minute", "mean", "min", "max", "std", "last", "count"]
MINUTE_NS = MINUTE.value


def minute_frame_from_readings(readings: pd.DataFrame, machines: pd.DataFrame | None = None) -> pd.DataFrame:
    """The minute frame of long readings; `machines` (machine_id, machine_type, rated_power_w) adds attributes."""
    readings = clean_readings(readings)
    if readings.empty:
        raise PowercastError("no readings to aggregate", "supply rows with machine_id, sensor, ts and value")
    frame = _bucket_statistics(readings)
    frame = check_minute_frame(frame)
    frame = hold_coarse_sensors(frame)
    if machines is not None:
        frame = _with_attributes(frame, machines)
    return frame


def _with_attributes(frame: pd.DataFrame, machines: pd.DataFrame) -> pd.DataFrame:
    """A left merge of the machines' attributes on machine_id (a column lookup when the ids are unique)."""
    attributes = [a for a in ATTRIBUTES if a in machines.columns]
    row = (
        pd.Index(machines["machine_id"]).get_indexer(frame["machine_id"])
        if machines["machine_id"].is_unique
        else np.array([-1])
    )
    if (row < 0).any():  # unknown machines (NaN attributes) or repeated ids: the general merge
        return frame.merge(machines[["machine_id", *attributes]], on="machine_id", how="left")
    for attribute in attributes:
        frame[attribute] = machines[attribute].array.take(row)
    return frame


def clean_readings(readings: pd.DataFrame) -> pd.DataFrame:
    """Typed, sorted long readings of known sensors; duplicated (machine_id, sensor, ts) keep their first value."""
    missing = [c for c in READING_COLUMNS if c not in readings.columns]
    if missing:
        raise PowercastError(f"readings lack column(s) {missing}", f"provide long-format columns {READING_COLUMNS}")
    out = readings[READING_COLUMNS].copy()
    out["machine_id"] = out["machine_id"].astype(str)
    codes, names = pd.factorize(out["sensor"].astype(str))  # normalise each distinct name once, not every row
    out["sensor"] = np.asarray([name.strip().lower() for name in names], dtype=object)[codes]
    out["ts"] = to_utc(out["ts"]).astype("datetime64[ns, UTC]")
    out["value"] = pd.to_numeric(out["value"]).astype(float)
    unknown = sorted(set(out["sensor"].unique()) - set(SENSORS))
    if unknown:
        log.warning("ignoring readings of unknown sensor(s) %s (known: %s)", unknown, list(SENSORS))
        out = out[out["sensor"].isin(SENSORS)]
    return _sorted_first_of_each(out[np.isfinite(out["value"].to_numpy())])


def _sorted_first_of_each(readings: pd.DataFrame) -> pd.DataFrame:
    """Readings sorted by (machine_id, sensor, ts), keeping the first-sent row of each such key."""
    machine = pd.factorize(readings["machine_id"], sort=True)[0]
    sensor = pd.factorize(readings["sensor"], sort=True)[0]
    ts = _nanoseconds(readings["ts"])
    order = np.lexsort((ts, sensor, machine))  # stable: duplicates end up adjacent, the first-sent one first
    machine, sensor, ts = machine[order], sensor[order], ts[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (machine[1:] != machine[:-1]) | (sensor[1:] != sensor[:-1]) | (ts[1:] != ts[:-1])
    return readings.iloc[order[first]].reset_index(drop=True)


def _nanoseconds(ts: pd.Series) -> np.ndarray:
    """Nanoseconds since the epoch of a datetime64[ns, UTC] series."""
    return ts.array.asi8


def _bucket_statistics(readings: pd.DataFrame) -> pd.DataFrame:
    """Clean, sorted readings -> the per-minute statistics of every sensor on each machine's regular grid."""
    machine_codes, machine_ids = pd.factorize(readings["machine_id"], sort=True)
    sensor_codes, sensor_names = pd.factorize(readings["sensor"], sort=True)
    first, lengths, stats = bucket_statistics(
        machine_codes,
        len(machine_ids),
        sensor_codes,
        list(sensor_names),
        _nanoseconds(readings["ts"]),
        readings["value"].to_numpy(float),
    )
    return _grid_frame(machine_ids, first, lengths, stats)


def _grid_frame(machine_ids, first: np.ndarray, lengths: np.ndarray, stats: dict[str, np.ndarray]) -> pd.DataFrame:
    offset = np.r_[0, np.cumsum(lengths)[:-1]]
    grid_minute = np.repeat(first - offset, lengths) + np.arange(int(lengths.sum()))
    columns: dict[str, np.ndarray] = {
        "machine_id": np.repeat(np.asarray(machine_ids, dtype=object), lengths),
        "ts": pd.to_datetime(grid_minute * MINUTE_NS, utc=True).astype("datetime64[ns, UTC]"),
    }
    return pd.DataFrame({**columns, **stats})


def reading_groups(readings: pd.DataFrame) -> pd.DataFrame:
    """Long readings -> one row per (machine_id, sensor, minute) that holds readings, with its statistics
    (`GROUP_COLUMNS`; minute as minutes since the epoch). A group depends on its own minute's readings only, so
    groups of different reads can be spliced together; `minute_frame_from_groups` turns them into the minute
    frame `minute_frame_from_readings` gives for the same readings."""
    readings = clean_readings(readings)
    machine_codes, machine_ids = pd.factorize(readings["machine_id"], sort=True)
    sensor_codes, sensor_names = pd.factorize(readings["sensor"], sort=True)
    groups = group_statistics(
        machine_codes, sensor_codes, _nanoseconds(readings["ts"]), readings["value"].to_numpy(float)
    )
    return pd.DataFrame(
        {
            "machine_id": np.asarray(machine_ids, dtype=object)[groups.machine],
            "sensor": np.asarray(sensor_names, dtype=object)[groups.sensor],
            "minute": groups.minute,
            **groups.stats,
        },
        columns=GROUP_COLUMNS,
    )


def minute_frame_from_groups(groups: pd.DataFrame, machines: pd.DataFrame | None = None) -> pd.DataFrame:
    """The minute frame of `reading_groups` output (rows in any order, one per machine, sensor and minute):
    equal to `minute_frame_from_readings` of the readings the groups were built from."""
    if groups.empty:
        raise PowercastError("no readings to aggregate", "supply rows with machine_id, sensor, ts and value")
    machine_codes, machine_ids = pd.factorize(groups["machine_id"], sort=True)
    sensor_codes, sensor_names = pd.factorize(groups["sensor"], sort=True)
    stats = {stat: groups[stat].to_numpy() for stat in GROUP_COLUMNS[3:]}
    first, lengths, columns = grid_columns(
        Groups(machine_codes, sensor_codes, groups["minute"].to_numpy(np.int64), stats),
        len(machine_ids),
        list(sensor_names),
    )
    frame = check_minute_frame(_grid_frame(machine_ids, first, lengths, columns))
    frame = hold_coarse_sensors(frame)
    if machines is not None:
        frame = _with_attributes(frame, machines)
    return frame


def bucket_statistics(
    machine_codes: np.ndarray,
    machines: int,
    sensor_codes: np.ndarray,
    sensor_names: list[str],
    ns: np.ndarray,
    values: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Readings sorted by (machine code, sensor code, ts) without repeated keys -> each machine's first minute
    (since the epoch) and number of minutes, and every sensor's minute-frame columns over those grids (machine
    after machine). The grid runs from the machine's first to its last bucket of any sensor."""
    groups = group_statistics(machine_codes, sensor_codes, ns, values)
    return grid_columns(groups, machines, sensor_names)


@dataclass(frozen=True)
class Groups:
    """The statistics of every (machine, sensor, minute) that holds readings: codes and minute since the epoch per
    group, and `mean`, `min`, `max`, `std`, `last`, `count` arrays over the groups."""

    machine: np.ndarray
    sensor: np.ndarray
    minute: np.ndarray
    stats: dict[str, np.ndarray]


def group_statistics(machine_codes: np.ndarray, sensor_codes: np.ndarray, ns: np.ndarray, values: np.ndarray) -> Groups:
    """Readings sorted by (machine code, sensor code, ts) without repeated keys -> the statistics of each
    (machine, sensor, minute) group. Each group's values depend on its own readings only.

    Mean and std use pandas' own group kernels over the same rows in the same order as a
    `groupby(["machine_id", "sensor", bucket])` would, so the values are bit-identical to it; min, max, last
    and count are exact in any order."""
    minute = ns // MINUTE_NS
    starts = np.flatnonzero(
        np.r_[
            True,
            (machine_codes[1:] != machine_codes[:-1])
            | (sensor_codes[1:] != sensor_codes[:-1])
            | (minute[1:] != minute[:-1]),
        ]
    )
    if not len(values):
        starts = starts[:0]
    group = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(minute)]))
    by_group = pd.Series(values).groupby(group, sort=False)
    stats = {
        "mean": by_group.mean().to_numpy(),
        "min": np.minimum.reduceat(values, starts) if len(starts) else values[:0],
        "max": np.maximum.reduceat(values, starts) if len(starts) else values[:0],
        "std": by_group.std().to_numpy(),
        "last": values[np.r_[starts[1:], len(values)] - 1] if len(starts) else values[:0],
        "count": np.diff(np.r_[starts, len(values)]),
    }
    return Groups(machine_codes[starts], sensor_codes[starts], minute[starts], stats)


def grid_columns(
    groups: Groups, machines: int, sensor_names: list[str]
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Groups (in any order, at most one per machine, sensor and minute) -> each machine's first minute and number
    of minutes, and every sensor's minute-frame columns over those grids (machine after machine); minutes with no
    reading of a sensor hold NaN and count 0."""
    first = np.full(machines, np.iinfo(np.int64).max)
    last = np.full(machines, np.iinfo(np.int64).min)
    np.minimum.at(first, groups.machine, groups.minute)
    np.maximum.at(last, groups.machine, groups.minute)
    lengths = last - first + 1
    offset = np.r_[0, np.cumsum(lengths)[:-1]]
    row = offset[groups.machine] + groups.minute - first[groups.machine]
    n = int(lengths.sum())
    columns: dict[str, np.ndarray] = {}
    for sensor in [s for s in SENSOR_ORDER if s in set(sensor_names)]:
        mine = groups.sensor == sensor_names.index(sensor)
        for column, stat in zip(sensor_columns(sensor), ("mean", *STATS)):
            filled = np.zeros(n, dtype=np.int64) if stat == "count" else np.full(n, np.nan)
            filled[row[mine]] = groups.stats[stat][mine]
            columns[column] = filled
    return first, lengths, columns


def _mostly_single_readings(machine_codes: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per machine code: is the median reading count of its measured buckets at most 1? Only those machines can
    be slow meters. Counts are whole numbers >= 1 in measured buckets, so the median is at
    most 1 exactly when more than half of them hold a single reading: two bincounts instead of a groupby."""
    known = machine_codes >= 0  # rows without a machine id belong to no machine
    n = int(machine_codes.max()) + 1 if len(machine_codes) else 0
    measured = np.bincount(machine_codes[known], weights=counts[known] > 0, minlength=n)
    single = np.bincount(machine_codes[known], weights=counts[known] == 1, minlength=n)
    return 2 * single > measured


def hold_coarse_sensors(frame: pd.DataFrame) -> pd.DataFrame:
    """Sample-and-hold for sensors sampled less often than once a minute (see the module doc).

    Held buckets get the last measured mean/min/max/last; their std stays NaN and their count 0."""
    sensors = [s for s in present_sensors(frame) if f"{s}_count" in frame.columns]
    if not sensors or frame.empty:
        return frame
    machine_codes, machine_ids = pd.factorize(frame["machine_id"])
    minutes = frame["ts"].to_numpy(dtype="datetime64[ns]").view(np.int64) // MINUTE_NS
    for sensor in sensors:
        counts = frame[f"{sensor}_count"].to_numpy()
        for code in np.flatnonzero(_mostly_single_readings(machine_codes, counts)):
            rows = machine_codes == code
            hold = hold_buckets(minutes[rows], counts[rows])
            if hold < 1:
                continue
            columns = [c for c in (f"{sensor}{suffix}" for suffix in _HELD) if c in frame.columns]
            frame.loc[rows, columns] = frame.loc[rows, columns].ffill(limit=hold)
    return frame


def hold_buckets(minutes: np.ndarray, counts: np.ndarray) -> int:
    """Buckets to hold each reading of a slow meter for, from one machine's bucket minutes (ascending) and the
    sensor's reading counts there: the usual spacing between measured buckets (the mean of the spacings up to
    twice the median: a 90 s meter alternates 1 and 2 minutes, 1.5; outages do not count) rounded up, minus one;
    0 when the buckets are too few to tell. Spacings are whole minutes, so every sum and median here is exact."""
    spacing = np.diff(minutes[counts > 0]).astype(float)
    if not len(spacing):
        return 0
    usual = spacing[spacing <= 2 * np.median(spacing)].mean()
    return math.ceil(usual - 1e-9) - 1


def hold_columns(columns: dict[str, np.ndarray], minutes: np.ndarray) -> None:
    """`hold_coarse_sensors` on one machine's minute-frame columns (arrays over its grid), in place."""
    for sensor in [s for s in SENSOR_ORDER if s in columns and f"{s}_count" in columns]:
        counts = columns[f"{sensor}_count"]
        if not len(counts) or not _mostly_single_readings(np.zeros(len(counts), dtype=np.int64), counts)[0]:
            continue
        hold = hold_buckets(minutes, counts)
        if hold < 1:
            continue
        for column in [c for c in (f"{sensor}{suffix}" for suffix in _HELD) if c in columns]:
            columns[column] = ffill(columns[column], hold)


def ffill(values: np.ndarray, limit: int) -> np.ndarray:
    """`pd.Series(values).ffill(limit=limit)` of a float array."""
    index = np.arange(len(values))
    last = np.maximum.accumulate(np.where(np.isnan(values), -1, index))
    fill = np.isnan(values) & (last >= 0) & (index - last <= limit)
    out = values.copy()
    out[fill] = values[last[fill]]
    return out
