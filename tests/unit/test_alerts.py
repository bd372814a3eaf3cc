"""Parsing Grafana's webhook notifications (the body its webhook notifier documents), without a database."""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime

import pytest

from powercast.monitoring.alerts import AlertPayloadError, label_fingerprint, parse_notification

# The example body of Grafana's webhook notifier documentation (unified alerting, version "1").
GRAFANA_EXAMPLE = {
    "receiver": "My Super Webhook",
    "status": "firing",
    "orgId": 1,
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "High memory usage", "team": "blue", "zone": "us-1"},
            "annotations": {
                "description": "The system has high memory usage",
                "runbook_url": "https://myrunbook.com/runbook/1234",
                "summary": "This alert was triggered for zone us-1",
            },
            "startsAt": "2021-10-12T09:51:03.157076+02:00",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "https://play.grafana.org/alerting/1afz29v7z/edit",
            "fingerprint": "c6eadffa33fcdf37",
            "silenceURL": "https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT2",
            "dashboardURL": "",
            "panelURL": "",
            "values": {"B": 44.23943737541908, "C": 1},
        },
        {
            "status": "resolved",
            "labels": {"alertname": "High CPU usage", "team": "blue", "zone": "eu-1"},
            "annotations": {"description": "The system has high CPU usage"},
            "startsAt": "2021-10-12T09:56:03.157076+02:00",
            "endsAt": "2021-10-12T10:01:03.123456789Z",
            "generatorURL": "https://play.grafana.org/alerting/d1rdpdv7k/edit",
            "fingerprint": "bc97ff14869b13e3",
            "values": {"B": 44.23943737541908, "C": 1},
        },
    ],
    "groupLabels": {},
    "commonLabels": {"team": "blue"},
    "commonAnnotations": {},
    "externalURL": "https://play.grafana.org/",
    "version": "1",
    "groupKey": "{}:{}",
    "truncatedAlerts": 0,
    "title": "[FIRING:2]  (blue)",
    "state": "alerting",
    "message": "**Firing**\n\nLabels:\n - alertname = T2\n",
}


def test_the_documented_example_parses():
    firing, resolved = parse_notification(json.dumps(GRAFANA_EXAMPLE))
    assert firing.fingerprint == "c6eadffa33fcdf37"
    assert firing.starts_at == datetime(2021, 10, 12, 7, 51, 3, 157076, tzinfo=UTC)
    assert firing.ends_at is None  # Go's zero time: still firing
    assert firing.alertname == "High memory usage" and firing.status == "firing"
    assert firing.observed == {"B": 44.23943737541908, "C": 1.0}
    assert firing.receiver == "My Super Webhook"
    assert resolved.status == "resolved"
    assert resolved.ends_at == datetime(2021, 10, 12, 10, 1, 3, 123456, tzinfo=UTC)  # nanoseconds cut to µs


def test_machine_and_severity_come_from_the_labels():
    body = copy.deepcopy(GRAFANA_EXAMPLE)
    body["alerts"][0]["labels"].update(machine="M-007", severity="critical")
    (alert, _) = parse_notification(json.dumps(body).encode())
    assert (alert.machine_id, alert.severity) == ("M-007", "critical")


def test_a_missing_fingerprint_is_derived_from_the_labels():
    body = copy.deepcopy(GRAFANA_EXAMPLE)
    del body["alerts"][0]["fingerprint"]
    (alert, _) = parse_notification(json.dumps(body))
    assert alert.fingerprint == label_fingerprint(body["alerts"][0]["labels"])
    assert label_fingerprint({"a": "1", "b": "2"}) == label_fingerprint({"b": "2", "a": "1"})


def _broken(path: list, value) -> bytes:
    body = copy.deepcopy(GRAFANA_EXAMPLE)
    target = body
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "not JSON"),
        (b"{not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[]", "not a JSON object"),
        (b'{"receiver": "x"}', "`alerts` is missing"),
        (b'{"alerts": {}}', "`alerts` is missing or not a list"),
        (b'{"alerts": [1]}', "alerts[0] is not an object"),
        (_broken(["alerts", 0, "status"], "pending"), "alerts[0].status"),
        (_broken(["alerts", 1, "labels"], KeyError), "alerts[1].labels"),
        (_broken(["alerts", 0, "labels", "alertname"], KeyError), "alertname is missing"),
        (_broken(["alerts", 0, "labels", "team"], 3), "alerts[0].labels must be an object of strings"),
        (_broken(["alerts", 0, "startsAt"], KeyError), "alerts[0].startsAt is missing"),
        (_broken(["alerts", 0, "startsAt"], "yesterday"), "alerts[0].startsAt is not an RFC 3339 time"),
        (_broken(["alerts", 0, "startsAt"], "2021-10-12T09:51:03"), "has no time zone"),
        (_broken(["alerts", 0, "endsAt"], 17), "alerts[0].endsAt is not an RFC 3339 time"),
        (_broken(["alerts", 0, "values", "B"], "high"), "alerts[0].values.B is not a number"),
        (_broken(["alerts", 0, "fingerprint"], 12), "fingerprint is not a string"),
        (b" " * (1 << 20) + b"{}", "body larger than"),
    ],
)
def test_bad_bodies_say_what_is_wrong(body, reason):
    with pytest.raises(AlertPayloadError, match=re.escape(reason)):
        parse_notification(body)


def test_an_empty_alert_list_is_a_valid_notification():
    assert parse_notification(b'{"alerts": []}') == []
