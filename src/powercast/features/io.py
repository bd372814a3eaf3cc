"""Reading a user's own history: a CSV or Parquet file of long-format readings (machine_id, sensor, ts, value)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from powercast.errors import PowercastError
from powercast.features.aggregate import READING_COLUMNS

_CSV = (".csv", ".csv.gz", ".txt")
_PARQUET = (".parquet", ".pq")


def load_readings_file(path: str | Path) -> pd.DataFrame:
    """Long readings from CSV or Parquet, typed: machine_id str, sensor str, ts UTC, value float.

    Timestamps without a zone are taken as UTC. Empty values are dropped (a missing reading); anything that
    is not a number or a timestamp is an error naming the first bad row. Only `power` readings are required.
    """
    path = Path(path)
    if not path.is_file():
        raise PowercastError(f"readings file {path} not found", "check the path")
    raw = _read(path)
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    missing = [c for c in READING_COLUMNS if c not in raw.columns]
    if missing:
        raise PowercastError(
            f"{path.name} lacks column(s) {missing} (has {list(raw.columns)})",
            f"provide long-format readings with columns {READING_COLUMNS}",
        )
    out = raw[READING_COLUMNS].dropna(subset=["value"]).copy()
    out["machine_id"] = out["machine_id"].astype(str).str.strip()
    out["sensor"] = out["sensor"].astype(str).str.strip().str.lower()
    out["value"] = _numbers(out["value"], path)
    out["ts"] = _timestamps(out["ts"], path)
    if not (out["sensor"] == "power").any():
        raise PowercastError(f"{path.name} has no power readings", "include rows with sensor = power (watts)")
    return out.reset_index(drop=True)


def _read(path: Path) -> pd.DataFrame:
    name = path.name.lower()
    try:
        if name.endswith(_PARQUET):
            return pd.read_parquet(path)
        if name.endswith(_CSV):
            return pd.read_csv(path)
    except Exception as exc:  # the parsers raise many types; the user needs the file and the reason
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PowercastError(
            f"cannot read {path.name} ({reason})", "check that it is a valid CSV or Parquet file"
        ) from exc
    raise PowercastError(f"unsupported file type {path.name}", "use a .csv or .parquet file")


def _numbers(values: pd.Series, path: Path) -> pd.Series:
    parsed = pd.to_numeric(values, errors="coerce")
    bad = parsed.isna()
    if bad.any():
        row = bad.idxmax()
        raise PowercastError(
            f"{path.name} row {row + 1}: value {values[row]!r} is not a number", "fix or remove that row"
        )
    return parsed.astype(float)


def _timestamps(values: pd.Series, path: Path) -> pd.Series:
    parsed = pd.to_datetime(values, utc=True, errors="coerce", format="mixed")
    bad = parsed.isna()
    if bad.any():
        row = bad.idxmax()
        raise PowercastError(
            f"{path.name} row {row + 1}: ts {values[row]!r} is not a timestamp",
            "use ISO 8601, e.g. 2026-11-25T12:00:10Z",
        )
    return parsed.astype("datetime64[ns, UTC]")
