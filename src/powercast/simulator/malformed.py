"""Malformed events: what a faulty gateway sends. Each one is rejected by `powercast.stream.events.parse_event`."""

from __future__ import annotations

import json

import numpy as np

WRONG_UNITS = {"temperature": "°F", "vibration": "g", "pressure": "psi", "power": "kW"}
MALFORMATIONS = (
    "bad_json",
    "missing_field",
    "wrong_unit",
    "non_finite",
    "wrong_type",
    "unknown_sensor",
    "future_ts",
    "bad_version",
    "not_an_object",
)
REQUIRED_FIELDS = ("schema_version", "event_id", "machine_id", "sensor", "value", "unit", "ts")


def malform(valid: bytes, kind: str, rng: np.random.Generator) -> bytes:
    """Corrupt one valid encoded event in the way `kind` names."""
    if kind == "bad_json":
        return valid[: int(rng.integers(1, len(valid) - 1))]
    if kind == "not_an_object":
        return b"[" + valid + b"]"
    event = json.loads(valid)
    if kind == "missing_field":
        del event[REQUIRED_FIELDS[int(rng.integers(len(REQUIRED_FIELDS)))]]
    elif kind == "wrong_unit":
        event["unit"] = WRONG_UNITS[event["sensor"]]
    elif kind == "non_finite":
        event["value"] = [float("nan"), float("inf"), float("-inf")][int(rng.integers(3))]
    elif kind == "wrong_type":
        event["value"] = str(event["value"])
    elif kind == "unknown_sensor":
        event["sensor"] = "humidity"
    elif kind == "future_ts":
        event["ts"] = "2999" + event["ts"][4:]  # a gateway clock centuries ahead
    elif kind == "bad_version":
        event["schema_version"] = 2
    else:
        raise ValueError(f"unknown malformation {kind!r}; expected one of {', '.join(MALFORMATIONS)}")
    return json.dumps(event, ensure_ascii=False).encode()
