"""Job results as plain JSON: what a DAG task pushes to XCom and what `--json` prints."""

from __future__ import annotations

import dataclasses
import math
from datetime import date, datetime
from typing import Any

# A dataclass field with metadata {"summary": False} (a full report kept for printing) stays out of the dict.
NOT_IN_SUMMARY = {"summary": False}


def as_dict(result: Any) -> Any:
    """`result` with dataclasses as dicts, times as ISO 8601 text and NaN as None."""
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return {
            f.name: as_dict(getattr(result, f.name))
            for f in dataclasses.fields(result)
            if f.metadata.get("summary", True)
        }
    if isinstance(result, dict):
        return {str(k): as_dict(v) for k, v in result.items()}
    if isinstance(result, list | tuple | set):
        return [as_dict(v) for v in result]
    if isinstance(result, datetime | date):
        return result.isoformat()
    if isinstance(result, float) and math.isnan(result):
        return None
    if hasattr(result, "item") and callable(result.item):  # numpy scalars
        return as_dict(result.item())
    return result
