"""Alerts from Grafana's webhook contact point: parse the notification, store each alert once.

Grafana posts one JSON notification per alert group (the webhook notifier's documented body): `receiver`,
`status`, `orgId`, `alerts` (each with `status` firing|resolved, `labels`, `annotations`, `startsAt`, `endsAt`,
`fingerprint`, `generatorURL`, `values`...), `groupLabels`, `commonLabels`, `externalURL`, `version`, `groupKey`,
`title`, `message`. An alert episode is identified by its fingerprint (a hash of its label set) and the time it
started firing, so the same notification delivered twice, or re-sent at the repeat interval, stores nothing new;
its resolved notification updates the row (status, end time).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from psycopg2.extras import Json, execute_values

from powercast.names import ALERTS_TABLE

MAX_BODY_BYTES = 1 << 20
STATUSES = ("firing", "resolved")
# Go's zero time: Grafana's `endsAt` of an alert that is still firing.
ZERO_TIME_YEAR = 1


class AlertPayloadError(ValueError):
    """A body that is not a Grafana webhook notification; the message is the short reason sent back."""


@dataclass(frozen=True)
class ReceivedAlert:
    """One alert of a notification, as stored in the `alerts` table."""

    fingerprint: str
    starts_at: datetime
    ends_at: datetime | None
    status: str
    alertname: str
    labels: dict[str, str]
    annotations: dict[str, str] = field(default_factory=dict)
    observed: dict[str, float | None] = field(default_factory=dict)
    generator_url: str | None = None
    receiver: str | None = None

    @property
    def machine_id(self) -> str | None:
        return self.labels.get("machine")

    @property
    def severity(self) -> str | None:
        return self.labels.get("severity")


def parse_notification(body: bytes | str) -> list[ReceivedAlert]:
    """The alerts of one webhook body; raises AlertPayloadError saying what is wrong with it."""
    if len(body) > MAX_BODY_BYTES:
        raise AlertPayloadError(f"body larger than {MAX_BODY_BYTES} bytes")
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise AlertPayloadError("body is not JSON") from None
    if not isinstance(payload, dict):
        raise AlertPayloadError("body is not a JSON object")
    alerts = payload.get("alerts")
    if not isinstance(alerts, list):
        raise AlertPayloadError("`alerts` is missing or not a list")
    receiver = payload.get("receiver")
    receiver = receiver if isinstance(receiver, str) else None
    return [_alert(item, f"alerts[{i}]", receiver) for i, item in enumerate(alerts)]


def _alert(item: object, where: str, receiver: str | None) -> ReceivedAlert:
    if not isinstance(item, dict):
        raise AlertPayloadError(f"{where} is not an object")
    status = item.get("status")
    if status not in STATUSES:
        raise AlertPayloadError(f"{where}.status must be one of {', '.join(STATUSES)}")
    labels = _strings(item.get("labels"), f"{where}.labels", required=True)
    alertname = labels.get("alertname")
    if not alertname:
        raise AlertPayloadError(f"{where}.labels.alertname is missing")
    starts_at = _time(item.get("startsAt"), f"{where}.startsAt")
    if starts_at is None:
        raise AlertPayloadError(f"{where}.startsAt is missing")
    fingerprint = item.get("fingerprint")
    if fingerprint is not None and (not isinstance(fingerprint, str) or not fingerprint):
        raise AlertPayloadError(f"{where}.fingerprint is not a string")
    url = item.get("generatorURL")
    return ReceivedAlert(
        fingerprint=fingerprint or label_fingerprint(labels),
        starts_at=starts_at,
        ends_at=_time(item.get("endsAt"), f"{where}.endsAt"),
        status=status,
        alertname=alertname,
        labels=labels,
        annotations=_strings(item.get("annotations"), f"{where}.annotations"),
        observed=_values(item.get("values"), f"{where}.values"),
        generator_url=url if isinstance(url, str) and url else None,
        receiver=receiver,
    )


def label_fingerprint(labels: dict[str, str]) -> str:
    """A stable id for a label set, for senders that leave `fingerprint` out (older Grafana versions)."""
    canonical = json.dumps(sorted(labels.items()), separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _strings(value: object, where: str, *, required: bool = False) -> dict[str, str]:
    if value is None and not required:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise AlertPayloadError(f"{where} must be an object of strings")
    return dict(value)


def _values(value: object, where: str) -> dict[str, float | None]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise AlertPayloadError(f"{where} must be an object")
    out: dict[str, float | None] = {}
    for key, number in value.items():
        if number is not None and (isinstance(number, bool) or not isinstance(number, int | float)):
            raise AlertPayloadError(f"{where}.{key} is not a number")
        out[str(key)] = None if number is None else float(number)
    return out


def _time(value: object, where: str) -> datetime | None:
    """RFC 3339 (Grafana writes up to nanoseconds); None for a missing value and for Go's zero time."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise AlertPayloadError(f"{where} is not an RFC 3339 time")
    text = value.strip()
    head, dot, tail = text.partition(".")
    if dot:  # keep at most microseconds: Python parses six fractional digits
        digits = len(tail) - len(tail.lstrip("0123456789"))
        text = f"{head}.{tail[: min(digits, 6)]}{tail[digits:]}"
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        raise AlertPayloadError(f"{where} is not an RFC 3339 time") from None
    if ts.tzinfo is None:
        raise AlertPayloadError(f"{where} has no time zone")
    if ts.year == ZERO_TIME_YEAR:
        return None
    return ts.astimezone(UTC)


@dataclass(frozen=True)
class StoreResult:
    """What storing one notification did: alerts new to the table, alerts whose state changed, the rest."""

    inserted: int
    updated: int
    unchanged: int


_UPSERT = f"""
INSERT INTO {ALERTS_TABLE} (fingerprint, starts_at, ends_at, status, alertname, machine_id, severity, labels,
                            annotations, observed, generator_url, receiver)
VALUES %s
ON CONFLICT (fingerprint, starts_at) DO UPDATE SET
    status = EXCLUDED.status, ends_at = EXCLUDED.ends_at, annotations = EXCLUDED.annotations,
    observed = EXCLUDED.observed, updated_at = now()
WHERE ({ALERTS_TABLE}.status, {ALERTS_TABLE}.ends_at) IS DISTINCT FROM (EXCLUDED.status, EXCLUDED.ends_at)
RETURNING (xmax = 0) AS inserted
"""  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters


def store_alerts(conn, alerts: list[ReceivedAlert]) -> StoreResult:
    """Upsert the alerts in one transaction; an alert already stored in the same state is left as it is."""
    unique = list({(a.fingerprint, a.starts_at): a for a in alerts}.values())  # one row per key per statement
    if not unique:
        return StoreResult(0, 0, 0)
    rows = [
        (
            a.fingerprint,
            a.starts_at,
            a.ends_at,
            a.status,
            a.alertname,
            a.machine_id,
            a.severity,
            Json(a.labels),
            Json(a.annotations),
            Json(a.observed),
            a.generator_url,
            a.receiver,
        )
        for a in unique
    ]
    with conn, conn.cursor() as cur:
        written = execute_values(cur, _UPSERT, rows, fetch=True)
    inserted = sum(1 for (new,) in written if new)
    return StoreResult(inserted, len(written) - inserted, len(unique) - len(written))
