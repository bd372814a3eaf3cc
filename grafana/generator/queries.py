"""Every SQL query of the dashboards and alert rules, with the columns it must return.

Queries are written for Grafana's PostgreSQL data source: macros (`$__timeFilter`, `$__timeGroupAlias`,
`$__timeFrom()`, `$__timeTo()`, `$__interval`, `$__interval_ms`) and dashboard variables (`$machine`, `$step`,
`$stale_minutes`). The checks in tests/grafana find each query of the provisioned files here by its text, run it
as Grafana's read-only role and compare the result with `columns`.
"""

from __future__ import annotations

from dataclasses import dataclass

from powercast.names import (
    DEAD_LETTERS_TABLE,
    DRIFT_REPORTS_TABLE,
    FEATURE_SNAPSHOTS_TABLE,
    FORECAST_QUALITY_TABLE,
    FORECASTS_TABLE,
    MACHINE_TYPE_LIMITS_TABLE,
    MACHINES_TABLE,
    MODEL_PROMOTIONS_TABLE,
    READINGS_TABLE,
)

SENSORS = ("temperature", "vibration", "pressure", "power")
TIME, NUMBER, TEXT = "time", "number", "text"  # column kinds: timestamp or epoch seconds, any number, text


@dataclass(frozen=True)
class Query:
    """One query and what it must return: `columns` as (name, kind) in order; `format` as Grafana reads it."""

    name: str
    sql: str
    columns: tuple[tuple[str, str], ...]
    format: str = "time_series"  # or "table"
    tables: tuple[str, ...] = ()  # the tables it reads (the read-only role's grants must cover them)


def _limit(column: str) -> str:
    """A limit of machine_type_limits in the sensor's unit (power limits are shares of the rated power)."""
    return f"CASE WHEN l.relative_to_rated THEN l.{column} * m.rated_power_w ELSE l.{column} END"


# Sensors live ----------------------------------------------------------------------------------------------------
def sensor_series(sensor: str) -> Query:
    return Query(
        f"sensor_{sensor}",
        f"""SELECT $__timeGroupAlias(r.ts, $__interval), r.machine_id, avg(r.value) AS "{sensor}"
FROM {READINGS_TABLE} r
WHERE r.sensor = '{sensor}' AND r.machine_id IN ($machine) AND $__timeFilter(r.ts)
GROUP BY 1, 2
ORDER BY 1, 2""",
        (("time", TIME), ("machine_id", TEXT), (sensor, NUMBER)),
        tables=(READINGS_TABLE,),
    )


def sensor_limits(sensor: str) -> Query:
    return Query(
        f"limits_{sensor}",
        f"""SELECT t.ts AS "time", m.machine_id, {_limit("warn_high")} AS "warn", {_limit("alarm_high")} AS "alarm"
FROM {MACHINES_TABLE} m
JOIN {MACHINE_TYPE_LIMITS_TABLE} l ON l.machine_type = m.machine_type AND l.sensor = '{sensor}'
CROSS JOIN (VALUES ($__timeFrom()::timestamptz), ($__timeTo()::timestamptz)) AS t(ts)
WHERE m.machine_id IN ($machine)
ORDER BY 1, 2""",
        (("time", TIME), ("machine_id", TEXT), ("warn", NUMBER), ("alarm", NUMBER)),
        tables=(MACHINES_TABLE, MACHINE_TYPE_LIMITS_TABLE),
    )


def fleet_sensor(sensor: str) -> Query:
    return Query(
        f"fleet_{sensor}",
        f"""SELECT $__timeGroupAlias(r.ts, $__interval), m.machine_type, avg(r.value) AS "mean", max(r.value) AS "max"
FROM {READINGS_TABLE} r
JOIN {MACHINES_TABLE} m ON m.machine_id = r.machine_id
WHERE r.sensor = '{sensor}' AND $__timeFilter(r.ts)
GROUP BY 1, 2
ORDER BY 1, 2""",
        (("time", TIME), ("machine_type", TEXT), ("mean", NUMBER), ("max", NUMBER)),
        tables=(READINGS_TABLE, MACHINES_TABLE),
    )


FLEET_POWER = Query(
    "fleet_power",
    f"""SELECT per_machine."time", m.machine_type, sum(per_machine.power) AS "power"
FROM (
    SELECT $__timeGroupAlias(r.ts, $__interval), r.machine_id, avg(r.value) AS power
    FROM {READINGS_TABLE} r
    WHERE r.sensor = 'power' AND $__timeFilter(r.ts)
    GROUP BY 1, 2
) AS per_machine
JOIN {MACHINES_TABLE} m ON m.machine_id = per_machine.machine_id
GROUP BY 1, 2
ORDER BY 1, 2""",
    (("time", TIME), ("machine_type", TEXT), ("power", NUMBER)),
    tables=(READINGS_TABLE, MACHINES_TABLE),
)

FLEET_NOW = Query(
    "fleet_now",
    f"""WITH latest AS (
    SELECT DISTINCT ON (r.machine_id, r.sensor) r.machine_id, r.sensor, r.ts, r.value
    FROM {READINGS_TABLE} r
    WHERE r.ts > $__timeTo()::timestamptz - interval '5 minutes' AND r.ts <= $__timeTo()
    ORDER BY r.machine_id, r.sensor, r.ts DESC
)
SELECT m.machine_id AS "machine", m.machine_type AS "type",
    max(x.value) FILTER (WHERE x.sensor = 'temperature') AS "temperature",
    max(x.value) FILTER (WHERE x.sensor = 'vibration') AS "vibration",
    max(x.value) FILTER (WHERE x.sensor = 'pressure') AS "pressure",
    max(x.value) FILTER (WHERE x.sensor = 'power') AS "power",
    max(x.value / {_limit("alarm_high")}) AS "share of alarm limit",
    extract(epoch FROM $__timeTo()::timestamptz - max(x.ts)) AS "seconds since last reading"
FROM {MACHINES_TABLE} m
LEFT JOIN latest x ON x.machine_id = m.machine_id
LEFT JOIN {MACHINE_TYPE_LIMITS_TABLE} l ON l.machine_type = m.machine_type AND l.sensor = x.sensor
GROUP BY m.machine_id, m.machine_type
ORDER BY 7 DESC NULLS LAST, 1""",
    (
        ("machine", TEXT),
        ("type", TEXT),
        ("temperature", NUMBER),
        ("vibration", NUMBER),
        ("pressure", NUMBER),
        ("power", NUMBER),
        ("share of alarm limit", NUMBER),
        ("seconds since last reading", NUMBER),
    ),
    format="table",
    tables=(READINGS_TABLE, MACHINES_TABLE, MACHINE_TYPE_LIMITS_TABLE),
)

MACHINES = Query(
    "machines",
    f"SELECT machine_id FROM {MACHINES_TABLE} ORDER BY machine_id",
    (("machine_id", TEXT),),
    format="table",
    tables=(MACHINES_TABLE,),
)

# Forecast vs actual (one machine: `$machine` is a single value there) ---------------------------------------------
_ISSUED_IN_RANGE = "f.issue_ts BETWEEN $__timeFrom()::timestamptz - interval '15 minutes' AND $__timeTo()"
_MATURED = "f.ts + interval '1 minute' <= now()"
_ACTUAL_MINUTES = f"""WITH actual AS (
    SELECT date_trunc('minute', r.ts) AS ts, avg(r.value) AS power
    FROM {READINGS_TABLE} r
    WHERE r.machine_id = '$machine' AND r.sensor = 'power' AND $__timeFilter(r.ts)
    GROUP BY 1
)"""

ACTUAL_POWER = Query(
    "actual_power",
    f"""SELECT $__timeGroupAlias(r.ts, '1m'), avg(r.value) AS "actual"
FROM {READINGS_TABLE} r
WHERE r.machine_id = '$machine' AND r.sensor = 'power' AND $__timeFilter(r.ts)
GROUP BY 1
ORDER BY 1""",
    (("time", TIME), ("actual", NUMBER)),
    tables=(READINGS_TABLE,),
)

FORECAST_BAND = Query(
    "forecast_band",
    f"""SELECT DISTINCT ON (f.ts) f.ts AS "time", f.yhat AS "forecast",
    f.yhat_lo AS "band low", f.yhat_hi AS "band high"
FROM {FORECASTS_TABLE} f
WHERE f.machine_id = '$machine' AND $__timeFilter(f.ts) AND {_ISSUED_IN_RANGE}
ORDER BY f.ts, f.issue_ts DESC""",
    (("time", TIME), ("forecast", NUMBER), ("band low", NUMBER), ("band high", NUMBER)),
    tables=(FORECASTS_TABLE,),
)

RESIDUALS = Query(
    "residuals",
    f"""{_ACTUAL_MINUTES}
SELECT f.ts AS "time", a.power - f.yhat AS "residual",
    CASE WHEN a.power < f.yhat_lo THEN a.power - f.yhat_lo
         WHEN a.power > f.yhat_hi THEN a.power - f.yhat_hi
         ELSE 0 END AS "outside band"
FROM {FORECASTS_TABLE} f
JOIN actual a ON a.ts = f.ts
WHERE f.machine_id = '$machine' AND f.step = $step AND $__timeFilter(f.ts) AND {_MATURED} AND {_ISSUED_IN_RANGE}
ORDER BY 1""",
    (("time", TIME), ("residual", NUMBER), ("outside band", NUMBER)),
    tables=(READINGS_TABLE, FORECASTS_TABLE),
)

ERROR_BY_STEP = Query(
    "error_by_step",
    f"""{_ACTUAL_MINUTES}
SELECT f.step::text AS "step", avg(abs(a.power - f.yhat)) AS "MAE", avg(a.power - f.yhat) AS "bias"
FROM {FORECASTS_TABLE} f
JOIN actual a ON a.ts = f.ts
WHERE f.machine_id = '$machine' AND $__timeFilter(f.ts) AND {_MATURED} AND {_ISSUED_IN_RANGE}
GROUP BY f.step
ORDER BY f.step""",
    (("step", TEXT), ("MAE", NUMBER), ("bias", NUMBER)),
    format="table",
    tables=(READINGS_TABLE, FORECASTS_TABLE),
)

# Read from the scored forecasts (the forecast_quality job joins each matured step with its actual minute once),
# not by joining forecasts with features_1m at query time: a day of the fleet's forecasts is millions of rows.
FLEET_ERROR_BY_STEP = Query(
    "fleet_error_by_step",
    f"""SELECT q.step AS "step",
    avg(q.abs_error / m.rated_power_w) AS "MAE / rated power",
    avg((q.actual - q.yhat) / m.rated_power_w) AS "bias / rated power",
    avg(CASE WHEN q.inside_band THEN 1.0 ELSE 0.0 END) FILTER (WHERE q.inside_band IS NOT NULL) AS "band coverage",
    count(*) AS "forecasts"
FROM {FORECAST_QUALITY_TABLE} q
JOIN {MACHINES_TABLE} m ON m.machine_id = q.machine_id
WHERE $__timeFilter(q.ts) AND q.issue_ts BETWEEN $__timeFrom()::timestamptz - interval '15 minutes' AND $__timeTo()
    AND m.rated_power_w > 0
GROUP BY q.step
ORDER BY q.step""",
    (
        ("step", NUMBER),
        ("MAE / rated power", NUMBER),
        ("bias / rated power", NUMBER),
        ("band coverage", NUMBER),
        ("forecasts", NUMBER),
    ),
    format="table",
    tables=(FORECAST_QUALITY_TABLE, MACHINES_TABLE),
)

MODEL_VERSION = Query(
    "model_version",
    f"""SELECT $__timeGroupAlias(f.issue_ts, '1m'), max(f.model_name || ' ' || f.model_version) AS "model version"
FROM {FORECASTS_TABLE} f
WHERE f.machine_id = '$machine' AND $__timeFilter(f.issue_ts)
GROUP BY 1
ORDER BY 1""",
    (("time", TIME), ("model version", TEXT)),
    format="table",
    tables=(FORECASTS_TABLE,),
)

PROMOTION_ANNOTATIONS = Query(
    "promotion_annotations",
    f"""SELECT p.decided_at AS "time",
    p.action || ' ' || p.registered_model || ': ' || coalesce(p.champion_version, 'none') || ' -> '
        || coalesce(p.new_champion_version, 'none') || ' (' || p.triggered_by || '; ' || p.reason || ')' AS "text",
    p.action || ',' || p.outcome AS "tags"
FROM {MODEL_PROMOTIONS_TABLE} p
WHERE $__timeFilter(p.decided_at) AND p.outcome IN ('promoted', 'rolled_back')
ORDER BY 1""",
    (("time", TIME), ("text", TEXT), ("tags", TEXT)),
    format="table",
    tables=(MODEL_PROMOTIONS_TABLE,),
)

# Pipeline health ------------------------------------------------------------------------------------------------
# Ingestion: readings counted per minute of `ingested_at` first (a cheap date_trunc per row), then grouped to the
# panel's interval (at least a minute); Grafana's numeric $__timeGroup over every row costs twice as much.
_PER_INGEST_MINUTE = f"""SELECT date_trunc('minute', r.ingested_at) AS minute, count(*) AS readings,
        sum(r.ingested_at - r.ts) AS lag, max(r.ingested_at - r.ts) AS max_lag
    FROM {READINGS_TABLE} r
    WHERE $__timeFilter(r.ingested_at)
    GROUP BY 1"""

INGEST_RATE = Query(
    "ingest_rate",
    f"""SELECT $__timeGroupAlias(per_minute.minute, $__interval),
    sum(per_minute.readings) * 1000.0 / $__interval_ms AS "readings/s"
FROM (
    {_PER_INGEST_MINUTE}
) AS per_minute
GROUP BY 1
ORDER BY 1""",
    (("time", TIME), ("readings/s", NUMBER)),
    tables=(READINGS_TABLE,),
)

INGEST_LAG = Query(
    "ingest_lag",
    f"""SELECT $__timeGroupAlias(per_minute.minute, $__interval),
    extract(epoch FROM sum(per_minute.lag) / sum(per_minute.readings)::float8) AS "mean lag",
    extract(epoch FROM max(per_minute.max_lag)) AS "max lag"
FROM (
    {_PER_INGEST_MINUTE}
) AS per_minute
GROUP BY 1
ORDER BY 1""",
    (("time", TIME), ("mean lag", NUMBER), ("max lag", NUMBER)),
    tables=(READINGS_TABLE,),
)

# The reason code, with the field at fault for schema errors ("schema: value").
DEAD_LETTER_REASON = """CASE
        WHEN d.reason = 'schema' AND d.error ~ '^[A-Za-z_][A-Za-z_.0-9]*: '
            THEN 'schema: ' || split_part(d.error, ':', 1)
        ELSE d.reason
    END"""

DEAD_LETTERS = Query(
    "dead_letters",
    f"""SELECT $__timeGroupAlias(d.received_at, $__interval),
    {DEAD_LETTER_REASON} AS "reason",
    count(*) AS "dead letters"
FROM {DEAD_LETTERS_TABLE} d
WHERE $__timeFilter(d.received_at)
GROUP BY 1, 2
ORDER BY 1, 2""",
    (("time", TIME), ("reason", TEXT), ("dead letters", NUMBER)),
    tables=(DEAD_LETTERS_TABLE,),
)

STALE_SENSORS = Query(
    "stale_sensors",
    f"""SELECT m.machine_id AS "machine", m.machine_type AS "type", s.sensor, last.ts AS "last reading",
    extract(epoch FROM $__timeTo()::timestamptz - last.ts) AS "silent for"
FROM {MACHINES_TABLE} m
CROSS JOIN (VALUES ('temperature'), ('vibration'), ('pressure'), ('power')) AS s(sensor)
CROSS JOIN LATERAL (
    SELECT max(r.ts) AS ts FROM {READINGS_TABLE} r
    WHERE r.machine_id = m.machine_id AND r.sensor = s.sensor AND r.ts <= $__timeTo()
) AS last
WHERE last.ts IS NULL OR last.ts < $__timeTo()::timestamptz - interval '1 minute' * $stale_minutes
ORDER BY 5 DESC NULLS FIRST, 1, 3""",
    (("machine", TEXT), ("type", TEXT), ("sensor", TEXT), ("last reading", TIME), ("silent for", NUMBER)),
    format="table",
    tables=(MACHINES_TABLE, READINGS_TABLE),
)

SNAPSHOT_AGE = Query(
    "snapshot_age",
    f"""SELECT extract(epoch FROM now() - max(s.created_at)) AS "last snapshot",
    extract(epoch FROM now() - max(s.watermark)) AS "data reflected up to"
FROM {FEATURE_SNAPSHOTS_TABLE} s""",
    (("last snapshot", NUMBER), ("data reflected up to", NUMBER)),
    format="table",
    tables=(FEATURE_SNAPSHOTS_TABLE,),
)

SNAPSHOTS = Query(
    "snapshots",
    f"""SELECT s.created_at AS "time", s.id AS "snapshot", s.mode, s.minutes_recomputed AS "minutes recomputed",
    s.row_count AS "rows written", s.duration_s AS "duration", s.watermark
FROM {FEATURE_SNAPSHOTS_TABLE} s
WHERE $__timeFilter(s.created_at)
ORDER BY s.created_at DESC
LIMIT 20""",
    (
        ("time", TIME),
        ("snapshot", NUMBER),
        ("mode", TEXT),
        ("minutes recomputed", NUMBER),
        ("rows written", NUMBER),
        ("duration", NUMBER),
        ("watermark", TIME),
    ),
    format="table",
    tables=(FEATURE_SNAPSHOTS_TABLE,),
)

PROMOTIONS = Query(
    "promotions",
    f"""SELECT p.decided_at AS "time", p.action, p.outcome, p.challenger_version AS "challenger",
    p.champion_version AS "champion before", p.new_champion_version AS "champion after",
    p.challenger_mae AS "challenger MAE", p.champion_mae AS "champion MAE", p.persistence_mae AS "persistence MAE",
    p.triggered_by AS "triggered by", p.reason
FROM {MODEL_PROMOTIONS_TABLE} p
ORDER BY p.decided_at DESC, p.id DESC
LIMIT 20""",
    (
        ("time", TIME),
        ("action", TEXT),
        ("outcome", TEXT),
        ("challenger", TEXT),
        ("champion before", TEXT),
        ("champion after", TEXT),
        ("challenger MAE", NUMBER),
        ("champion MAE", NUMBER),
        ("persistence MAE", NUMBER),
        ("triggered by", TEXT),
        ("reason", TEXT),
    ),
    format="table",
    tables=(MODEL_PROMOTIONS_TABLE,),
)

DRIFT_CHECKS = Query(
    "drift_checks",
    f"""SELECT d.created_at AS "time", d.decision, d.drifted_share AS "drifted share",
    d.error_ratio AS "error ratio", d.rejected_rate AS "rejected rate", d.model_version AS "champion",
    d.triggered_run AS "triggered run", d.reason
FROM {DRIFT_REPORTS_TABLE} d
ORDER BY d.created_at DESC, d.id DESC
LIMIT 20""",
    (
        ("time", TIME),
        ("decision", TEXT),
        ("drifted share", NUMBER),
        ("error ratio", NUMBER),
        ("rejected rate", NUMBER),
        ("champion", TEXT),
        ("triggered run", TEXT),
        ("reason", TEXT),
    ),
    format="table",
    tables=(DRIFT_REPORTS_TABLE,),
)

# Alert rules: one row per alert instance, string columns become its labels, the number is what the rule tests ----
ALERT_LIMIT = Query(
    "alert_limit",
    f"""SELECT r.machine_id AS "machine", m.machine_type, r.sensor,
    avg(r.value) / max({_limit("alarm_high")}) AS "share of alarm limit"
FROM {READINGS_TABLE} r
JOIN {MACHINES_TABLE} m ON m.machine_id = r.machine_id
JOIN {MACHINE_TYPE_LIMITS_TABLE} l ON l.machine_type = m.machine_type AND l.sensor = r.sensor
WHERE $__timeFilter(r.ts) AND (NOT l.relative_to_rated OR m.rated_power_w > 0)
GROUP BY r.machine_id, m.machine_type, r.sensor""",
    (("machine", TEXT), ("machine_type", TEXT), ("sensor", TEXT), ("share of alarm limit", NUMBER)),
    format="table",
    tables=(READINGS_TABLE, MACHINES_TABLE, MACHINE_TYPE_LIMITS_TABLE),
)

# z of the mean of the last two complete minutes against the hour of minutes before them, for temperature and
# vibration, only while the machine's power holds steady (within 10 % of its rating): load changes move both
# sensors as a matter of course. The deviation has a floor per sensor so a very quiet hour cannot make noise an alarm.
ALERT_ZSCORE = Query(
    "alert_zscore",
    f"""WITH minutes AS (
    SELECT r.machine_id, r.sensor, date_trunc('minute', r.ts) AS minute, avg(r.value) AS value
    FROM {READINGS_TABLE} r
    WHERE $__timeFilter(r.ts) AND r.ts < date_trunc('minute', $__timeTo()::timestamptz)
        AND r.sensor IN ('temperature', 'vibration', 'power')
    GROUP BY 1, 2, 3
), windows AS (
    SELECT machine_id, sensor,
        avg(value) FILTER (WHERE recent) AS recent_mean,
        avg(value) FILTER (WHERE NOT recent) AS base_mean,
        stddev_samp(value) FILTER (WHERE NOT recent) AS base_std,
        count(*) FILTER (WHERE NOT recent) AS base_minutes
    FROM (
        SELECT *, minute >= date_trunc('minute', $__timeTo()::timestamptz) - interval '2 minutes' AS recent
        FROM minutes
    ) AS split
    GROUP BY 1, 2
)
SELECT s.machine_id AS "machine", m.machine_type, s.sensor,
    (s.recent_mean - s.base_mean) / greatest(s.base_std, f.floor) AS "z"
FROM windows s
JOIN (VALUES ('temperature', 1.0), ('vibration', 0.2)) AS f(sensor, floor) ON f.sensor = s.sensor
JOIN windows p ON p.machine_id = s.machine_id AND p.sensor = 'power'
JOIN {MACHINES_TABLE} m ON m.machine_id = s.machine_id
WHERE s.base_minutes >= 30 AND s.recent_mean IS NOT NULL
    AND abs(p.recent_mean - p.base_mean) < 0.1 * m.rated_power_w""",
    (("machine", TEXT), ("machine_type", TEXT), ("sensor", TEXT), ("z", NUMBER)),
    format="table",
    tables=(READINGS_TABLE, MACHINES_TABLE),
)

ALERT_STALE = Query(
    "alert_stale",
    f"""SELECT m.machine_id AS "machine", m.machine_type,
    extract(epoch FROM $__timeTo()::timestamptz - max(last.ts)) AS "seconds since last reading"
FROM {MACHINES_TABLE} m
CROSS JOIN (VALUES ('temperature'), ('vibration'), ('pressure'), ('power')) AS s(sensor)
CROSS JOIN LATERAL (
    SELECT max(r.ts) AS ts FROM {READINGS_TABLE} r
    WHERE r.machine_id = m.machine_id AND r.sensor = s.sensor AND $__timeFilter(r.ts)
) AS last
GROUP BY m.machine_id, m.machine_type
HAVING max(last.ts) IS NOT NULL""",
    (("machine", TEXT), ("machine_type", TEXT), ("seconds since last reading", NUMBER)),
    format="table",
    tables=(MACHINES_TABLE, READINGS_TABLE),
)

BAND_MINUTES = 5  # the last complete minutes the band rule looks at; all of them outside the band fires it
ALERT_BAND = Query(
    "alert_band",
    f"""WITH actual AS (
    SELECT r.machine_id, date_trunc('minute', r.ts) AS ts, avg(r.value) AS power
    FROM {READINGS_TABLE} r
    WHERE r.sensor = 'power' AND $__timeFilter(r.ts)
        AND r.ts >= date_trunc('minute', $__timeTo()::timestamptz) - interval '{BAND_MINUTES} minutes'
        AND r.ts < date_trunc('minute', $__timeTo()::timestamptz)
    GROUP BY 1, 2
), forecast AS (
    SELECT DISTINCT ON (f.machine_id, f.ts) f.machine_id, f.ts, f.yhat_lo, f.yhat_hi
    FROM {FORECASTS_TABLE} f
    WHERE $__timeFilter(f.issue_ts) AND f.yhat_lo IS NOT NULL AND f.yhat_hi IS NOT NULL
        AND f.ts >= date_trunc('minute', $__timeTo()::timestamptz) - interval '{BAND_MINUTES} minutes'
        AND f.ts < date_trunc('minute', $__timeTo()::timestamptz)
    ORDER BY f.machine_id, f.ts, f.issue_ts DESC
)
SELECT a.machine_id AS "machine", m.machine_type,
    count(*) FILTER (WHERE a.power < f.yhat_lo OR a.power > f.yhat_hi) AS "minutes outside band"
FROM actual a
JOIN forecast f ON f.machine_id = a.machine_id AND f.ts = a.ts
JOIN {MACHINES_TABLE} m ON m.machine_id = a.machine_id
GROUP BY a.machine_id, m.machine_type""",
    (("machine", TEXT), ("machine_type", TEXT), ("minutes outside band", NUMBER)),
    format="table",
    tables=(READINGS_TABLE, FORECASTS_TABLE, MACHINES_TABLE),
)

PANEL_QUERIES: tuple[Query, ...] = (
    *(sensor_series(s) for s in SENSORS),
    *(sensor_limits(s) for s in SENSORS),
    *(fleet_sensor(s) for s in SENSORS if s != "power"),
    FLEET_POWER,
    FLEET_NOW,
    MACHINES,
    ACTUAL_POWER,
    FORECAST_BAND,
    RESIDUALS,
    ERROR_BY_STEP,
    FLEET_ERROR_BY_STEP,
    MODEL_VERSION,
    PROMOTION_ANNOTATIONS,
    INGEST_RATE,
    INGEST_LAG,
    DEAD_LETTERS,
    STALE_SENSORS,
    SNAPSHOT_AGE,
    SNAPSHOTS,
    PROMOTIONS,
    DRIFT_CHECKS,
)
ALERT_QUERIES: tuple[Query, ...] = (ALERT_LIMIT, ALERT_ZSCORE, ALERT_STALE, ALERT_BAND)
ALL_QUERIES: tuple[Query, ...] = PANEL_QUERIES + ALERT_QUERIES


def by_sql() -> dict[str, Query]:
    """The catalogue keyed by query text (how the checks find a provisioned query's expectations)."""
    return {q.sql: q for q in ALL_QUERIES}


def tables_read() -> set[str]:
    return {t for q in ALL_QUERIES for t in q.tables}
