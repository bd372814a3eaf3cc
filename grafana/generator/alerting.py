"""Alert rules, the webhook contact point and the notification policy, in Grafana's file provisioning format.

Each rule runs one query of `queries` that returns a row per alert instance (its text columns become labels:
`machine`, `machine_type`, `sensor`), then a threshold expression on the row's number. Labels carry no `$`:
Grafana interpolates environment variables in provisioned labels (not in queries or annotations).
"""

from __future__ import annotations

from dataclasses import dataclass

from grafana.generator import queries as q
from grafana.generator.provisioning import DATASOURCE_TYPE, DATASOURCE_UID

FOLDER = "powercast"
GROUP = "powercast"
INTERVAL = "1m"
CONTACT_POINT = "powercast-alerts"
# Grafana reaches the receiver of `powercast alerts serve`; the port comes from the same setting.
WEBHOOK_URL = "http://127.0.0.1:${POWERCAST_ALERTS_PORT}/grafana/alerts"
STALE_AFTER_S = 300
GROUP_BY = ("alertname", "machine")  # one notification per rule and machine


@dataclass(frozen=True)
class Rule:
    uid: str
    title: str
    query: q.Query
    window_s: int  # the query's time range: now - window_s .. now
    evaluator: str  # gt | lt | outside_range | within_range
    params: tuple[float, ...]
    pending: str  # `for`
    severity: str
    summary: str
    description: str


RULES = (
    Rule(
        "powercast-sensor-limit",
        "Sensor above its machine type's alarm limit",
        q.ALERT_LIMIT,
        120,
        "gt",
        (1.0,),
        "2m",
        "critical",
        "{{ $labels.machine }} {{ $labels.sensor }} at {{ humanizePercentage $values.A.Value }} of its alarm limit",
        "The 2-minute mean of {{ $labels.sensor }} on {{ $labels.machine }} ({{ $labels.machine_type }}) is above "
        "the alarm limit of its machine type (table machine_type_limits).",
    ),
    Rule(
        "powercast-sensor-zscore",
        "Temperature or vibration departs from its last hour",
        q.ALERT_ZSCORE,
        3780,
        "gt",
        (4.0,),
        "3m",
        "warning",
        "{{ $labels.machine }} {{ $labels.sensor }} z = {{ humanize $values.A.Value }} at steady power",
        "The mean of the last two minutes of {{ $labels.sensor }} on {{ $labels.machine }} lies more than 4 "
        "deviations above the hour before, while the machine's power held steady.",
    ),
    Rule(
        "powercast-machine-stale",
        "No data from a machine",
        q.ALERT_STALE,
        86_400,
        "gt",
        (float(STALE_AFTER_S),),
        "1m",
        "critical",
        "{{ $labels.machine }} silent for {{ humanizeDuration $values.A.Value }}",
        "No reading from {{ $labels.machine }} ({{ $labels.machine_type }}) for more than 5 minutes; it sent "
        "data in the last 24 hours.",
    ),
    Rule(
        "powercast-forecast-band",
        "Power outside the forecast band",
        q.ALERT_BAND,
        900,
        "gt",
        (float(q.BAND_MINUTES - 1),),
        "1m",
        "warning",
        "{{ $labels.machine }} power outside the forecast band for {{ $values.A.Value }} minutes in a row",
        "The 1-minute mean power of {{ $labels.machine }} left the 10%-90% band of its freshest forecast in each "
        f"of the last {q.BAND_MINUTES} complete minutes.",
    ),
)


def _rule(rule: Rule) -> dict:
    sql_model = {
        "refId": "A",
        "datasource": {"type": DATASOURCE_TYPE, "uid": DATASOURCE_UID},
        "editorMode": "code",
        "format": rule.query.format,
        "rawQuery": True,
        "rawSql": rule.query.sql,
        "intervalMs": 1000,
        "maxDataPoints": 43200,
    }
    threshold = {
        "refId": "B",
        "datasource": {"type": "__expr__", "uid": "__expr__"},
        "type": "threshold",
        "expression": "A",
        "conditions": [{"type": "query", "evaluator": {"type": rule.evaluator, "params": list(rule.params)}}],
    }
    return {
        "uid": rule.uid,
        "title": rule.title,
        "condition": "B",
        "data": [
            {
                "refId": "A",
                "relativeTimeRange": {"from": rule.window_s, "to": 0},
                "datasourceUid": DATASOURCE_UID,
                "model": sql_model,
            },
            {"refId": "B", "datasourceUid": "__expr__", "model": threshold},
        ],
        "noDataState": "OK",
        "execErrState": "Error",
        "for": rule.pending,
        "labels": {"severity": rule.severity, "team": "powercast"},
        "annotations": {
            "summary": rule.summary,
            "description": rule.description,
            "__dashboardUid__": "powercast-sensors-live",
        },
        "isPaused": False,
        "notification_settings": {"receiver": CONTACT_POINT, "group_by": list(GROUP_BY)},
    }


def alerting_file() -> dict:
    """Rules, contact point and policy for `grafana/provisioning/alerting/powercast.yaml`."""
    return {
        "apiVersion": 1,
        "groups": [
            {"orgId": 1, "name": GROUP, "folder": FOLDER, "interval": INTERVAL, "rules": [_rule(r) for r in RULES]}
        ],
        "contactPoints": [
            {
                "orgId": 1,
                "name": CONTACT_POINT,
                "receivers": [
                    {
                        "uid": "powercast-alerts-webhook",
                        "type": "webhook",
                        "settings": {"url": WEBHOOK_URL, "httpMethod": "POST"},
                        "disableResolveMessage": False,
                    }
                ],
            }
        ],
        "policies": [
            {
                "orgId": 1,
                "receiver": CONTACT_POINT,
                "group_by": list(GROUP_BY),
                "group_wait": "30s",
                "group_interval": "5m",
                "repeat_interval": "4h",
            }
        ],
    }
