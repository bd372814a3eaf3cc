"""From a `Block` to Kafka records: (key = machine id, value = the reading event as UTF-8 JSON).

The hot path fills a fixed template per machine and sensor instead of calling `encode_event` per reading
(about 10× faster); the bytes are identical to `powercast.stream.events.encode_event`'s, which a unit test
checks. Records come out in time order: every machine's readings of one step, then the next step.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np

from powercast.simulator.engine import Block
from powercast.simulator.malformed import MALFORMATIONS, malform
from powercast.stream.events import SCHEMA_VERSION, SENSOR_UNITS, SENSORS, encode_event, format_ts

DECIMALS = {"temperature": 2, "vibration": 3, "pressure": 3, "power": 1}
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_UUID_HEX_POSITIONS = np.array([i for i in range(36) if i not in (8, 13, 18, 23)])


def uuid_strings(id_bytes: np.ndarray) -> np.ndarray:
    """Random bytes (..., 16) -> version-4 UUID text as ASCII bytes (..., 36), vectorised."""
    b = id_bytes.copy()
    b[..., 6] = (b[..., 6] & 0x0F) | 0x40
    b[..., 8] = (b[..., 8] & 0x3F) | 0x80
    nibbles = np.stack([b >> 4, b & 0x0F], axis=-1).reshape(*b.shape[:-1], 32)
    out = np.full((*b.shape[:-1], 36), ord("-"), dtype=np.uint8)
    out[..., _UUID_HEX_POSITIONS] = _HEX[nibbles]
    return out


def _templates(machine_id: str) -> list[tuple[bytes, bytes]]:
    """Per sensor: the bytes between event_id and value, and between value and ts."""
    return [
        (
            f'", "machine_id": "{machine_id}", "sensor": "{sensor}", "value": '.encode(),
            f', "unit": "{SENSOR_UNITS[sensor]}", "ts": "'.encode(),
        )
        for sensor in SENSORS
    ]


_HEAD = f'{{"schema_version": {SCHEMA_VERSION}, "event_id": "'.encode()
_TAIL = b'"}'


def rounded_values(block: Block) -> np.ndarray:
    """Values rounded to each sensor's resolution, as (steps, machines, sensors)."""
    out = np.empty_like(block.values)
    for i, sensor in enumerate(SENSORS):
        out[..., i] = np.round(block.values[..., i], DECIMALS[sensor])
    return out.transpose(1, 0, 2)


def encode_block(block: Block) -> Iterator[tuple[bytes, bytes]]:
    """Yield `(key, value)` for every reading of the block, and each malformed event after its machine's step."""
    keys = [m.machine_id.encode() for m in block.machines]
    templates = [_templates(m.machine_id) for m in block.machines]
    values = rounded_values(block).tolist()
    present = block.present.transpose(1, 0, 2).tolist()
    ids = uuid_strings(block.event_ids).transpose(1, 0, 2, 3).tobytes()
    broken: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for row, pos, sensor, kind_seed in block.malformed:
        broken.setdefault((pos, row), []).append((sensor, kind_seed))
    n_sensors = len(SENSORS)
    at = 0
    for pos, ts in enumerate(block.timestamps()):
        ts_b = format_ts(ts).encode() + _TAIL
        for row, key in enumerate(keys):
            row_values, row_present, row_templates = values[pos][row], present[pos][row], templates[row]
            for s in range(n_sensors):
                if row_present[s]:
                    middle, unit = row_templates[s]
                    yield key, b"".join((_HEAD, ids[at : at + 36], middle, repr(row_values[s]).encode(), unit, ts_b))
                at += 36
            for sensor, kind_seed in broken.get((pos, row), ()):
                yield key, broken_event(block, row, pos, sensor, kind_seed)


def broken_event(block: Block, row: int, pos: int, sensor: int, kind_seed: int) -> bytes:
    """A malformed event built from the reading at (row, pos, sensor); the kind is drawn from `kind_seed`."""
    rng = np.random.default_rng(kind_seed)
    kind = MALFORMATIONS[int(rng.integers(len(MALFORMATIONS)))]
    ts = datetime.fromtimestamp(int(block.steps[pos]) * block.interval_s, tz=UTC)
    value = float(np.round(block.values[row, pos, sensor], DECIMALS[SENSORS[sensor]]))
    event_id = uuid.UUID(bytes=rng.bytes(16), version=4)
    valid = encode_event(block.machines[row].machine_id, SENSORS[sensor], value, ts, event_id=event_id)
    return malform(valid, kind, rng)
