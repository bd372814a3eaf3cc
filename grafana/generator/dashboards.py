"""The three dashboards, built with Grafana's foundation SDK (`grafana-foundation-sdk`, Grafana 11.6 schema).

Sensors live (5 s refresh, per machine and fleet-wide, limits per machine type), Forecast vs actual (point and
band, residuals, error by horizon step of matured forecasts, the model version and promotion annotations),
Pipeline health (ingest rate and lag, dead letters by reason, stale sensors, feature snapshots, promotions).
Every query comes from `queries`.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import barchart, common, stat, statetimeline, table, timeseries
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models import common as common_models
from grafana_foundation_sdk.models import dashboard as models

from grafana.generator import queries as q
from grafana.generator.provisioning import DATASOURCE_TYPE, DATASOURCE_UID

DATASOURCE = models.DataSourceRef(type_val=DATASOURCE_TYPE, uid=DATASOURCE_UID)
TAGS = ["powercast"]
UNITS = {"temperature": "celsius", "vibration": "m/s²", "pressure": "pressurebar", "power": "watt"}


class SqlTarget(cogvariants.Dataquery):
    """A raw SQL query of Grafana's PostgreSQL data source (the SDK ships no builder for it)."""

    def __init__(self, ref_id: str, query: q.Query, hide: bool = False):
        self.ref_id, self.query, self.hide = ref_id, query, hide

    def to_json(self) -> dict[str, object]:
        return {
            "refId": self.ref_id,
            "datasource": DATASOURCE.to_json(),
            "editorMode": "code",
            "format": self.query.format,
            "rawQuery": True,
            "rawSql": self.query.sql,
        }


class Sql(cogbuilder.Builder[SqlTarget]):
    def __init__(self, ref_id: str, query: q.Query):
        self._target = SqlTarget(ref_id, query)

    def build(self) -> SqlTarget:
        return self._target


def _steps(*steps: tuple[float | None, str]) -> dash.ThresholdsConfig:
    return (
        dash.ThresholdsConfig()
        .mode(models.ThresholdsMode.ABSOLUTE)
        .steps([models.Threshold(value=v, color=c) for v, c in steps])
    )


def _prop(name: str, value: object) -> models.DynamicConfigValue:
    return models.DynamicConfigValue(id_val=name, value=value)


class Layout:
    """Hands out panel ids in order, so every dashboard's ids are unique and stable."""

    def __init__(self):
        self.next_id = 0

    def id(self) -> int:
        self.next_id += 1
        return self.next_id


def _series(layout: Layout, title: str, unit: str, *targets: tuple[str, q.Query], width: int = 12, height: int = 8):
    panel = (
        timeseries.Panel()
        .id(layout.id())
        .title(title)
        .datasource(DATASOURCE)
        .unit(unit)
        .span(width)
        .height(height)
        .legend(common.VizLegendOptions().show_legend(True).display_mode(common_models.LegendDisplayMode.LIST))
    )
    for ref_id, query in targets:
        panel = panel.with_target(Sql(ref_id, query))
    return panel


def _table(layout: Layout, title: str, query: q.Query, width: int = 12, height: int = 8) -> table.Panel:
    return (
        table.Panel()
        .id(layout.id())
        .title(title)
        .datasource(DATASOURCE)
        .with_target(Sql("A", query))
        .span(width)
        .height(height)
    )


def _machine_variable(multi: bool) -> dash.QueryVariable:
    return (
        dash.QueryVariable("machine")
        .label("Machine")
        .datasource(DATASOURCE)
        .query(q.MACHINES.sql)
        .refresh(models.VariableRefresh.ON_DASHBOARD_LOAD)
        .sort(models.VariableSort.ALPHABETICAL_ASC)
        .multi(multi)
        .include_all(False)
    )


def _custom_variable(name: str, label: str, values: list[str], default: str) -> dash.CustomVariable:
    return (
        dash.CustomVariable(name)
        .label(label)
        .values(",".join(values))
        .current(models.VariableOption(selected=True, text=default, value=default))
    )


def _dashboard(uid: str, title: str, description: str, refresh: str, time_from: str, time_to: str = "now"):
    return (
        dash.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(TAGS)
        .timezone("utc")
        .refresh(refresh)
        .time(time_from, time_to)
        .tooltip(models.DashboardCursorSync.CROSSHAIR)
        .readonly()
    )


def sensors_live() -> dash.Dashboard:
    layout = Layout()
    board = _dashboard(
        "powercast-sensors-live",
        "powercast: sensors live",
        "Temperature, vibration, pressure and power per machine and fleet-wide; dashed lines are the warn and "
        "alarm limits of the machine's type (table machine_type_limits).",
        "5s",
        "now-30m",
    ).with_variable(_machine_variable(multi=True))
    board = board.with_panel(
        _table(layout, "Fleet now: latest readings, share of the alarm limit", q.FLEET_NOW, width=24, height=8)
        .override_by_name(
            "share of alarm limit",
            [_prop("unit", "percentunit"), _prop("custom.cellOptions", {"type": "color-background"})],
        )
        .override_by_name("seconds since last reading", [_prop("unit", "s")])
        .thresholds(_steps((None, "green"), (0.9, "orange"), (1.0, "red")))
    )
    board = board.with_row(dash.Row("Machines: $machine").id(layout.id()))
    for sensor in q.SENSORS:
        board = board.with_panel(
            _series(
                layout,
                f"{sensor.capitalize()}: $machine",
                UNITS[sensor],
                ("A", q.sensor_series(sensor)),
                ("B", q.sensor_limits(sensor)),
            )
            .interval("10s")
            .display_name("${__field.labels.machine_id} ${__field.name}")
            .override_by_regexp(
                ".*warn$",
                [
                    _prop("custom.lineStyle", {"fill": "dash", "dash": [10, 10]}),
                    _prop("color", {"mode": "fixed", "fixedColor": "orange"}),
                ],
            )
            .override_by_regexp(
                ".*alarm$",
                [
                    _prop("custom.lineStyle", {"fill": "dash", "dash": [10, 10]}),
                    _prop("color", {"mode": "fixed", "fixedColor": "red"}),
                ],
            )
        )
    board = board.with_row(dash.Row("Fleet by machine type").id(layout.id()))
    for sensor in ("temperature", "vibration", "pressure"):
        board = board.with_panel(
            _series(
                layout,
                f"{sensor.capitalize()} by machine type (mean, max)",
                UNITS[sensor],
                ("A", q.fleet_sensor(sensor)),
            )
            .interval("10s")
            .display_name("${__field.labels.machine_type} ${__field.name}")
        )
    board = board.with_panel(
        _series(layout, "Fleet power by machine type", "watt", ("A", q.FLEET_POWER))
        .interval("10s")
        .display_name("${__field.labels.machine_type}")
        .stacking(common.StackingConfig().mode(common_models.StackingMode.NORMAL))
        .fill_opacity(30)
    )
    return board


def forecast_vs_actual() -> dash.Dashboard:
    layout = Layout()
    board = (
        _dashboard(
            "powercast-forecast",
            "powercast: forecast vs actual",
            "The served forecast of one machine against its 1-minute mean power: point, 10%-90% band, residuals "
            "of matured forecasts at a chosen horizon step, error by step, the model version; annotations mark "
            "promotions and rollbacks (model_promotions).",
            "1m",
            "now-3h",
            "now+15m",
        )
        .with_variable(_machine_variable(multi=False))
        .with_variable(_custom_variable("step", "Horizon step (min)", [str(s) for s in range(1, 16)], "1"))
        .annotation(
            dash.AnnotationQuery()
            .name("Promotions and rollbacks")
            .datasource(DATASOURCE)
            .enable(True)
            .icon_color("purple")
            .target(Sql("Anno", q.PROMOTION_ANNOTATIONS))  # a SQL target: the SDK types only the built-in one
        )
    )
    board = board.with_panel(
        _series(
            layout,
            "Power of $machine: actual, forecast, band",
            "watt",
            ("A", q.ACTUAL_POWER),
            ("B", q.FORECAST_BAND),
            width=24,
            height=10,
        )
        .override_by_name(
            "band high",
            [
                _prop("custom.fillBelowTo", "band low"),
                _prop("custom.lineWidth", 0),
                _prop("color", {"mode": "fixed", "fixedColor": "blue"}),
            ],
        )
        .override_by_name(
            "band low", [_prop("custom.lineWidth", 0), _prop("color", {"mode": "fixed", "fixedColor": "blue"})]
        )
        .override_by_name(
            "forecast",
            [
                _prop("custom.lineStyle", {"fill": "dash", "dash": [10, 10]}),
                _prop("color", {"mode": "fixed", "fixedColor": "blue"}),
            ],
        )
        .override_by_name("actual", [_prop("color", {"mode": "fixed", "fixedColor": "green"})])
    )
    board = board.with_panel(
        _series(layout, "Residuals of $machine at step $step (matured forecasts)", "watt", ("A", q.RESIDUALS))
    )
    board = board.with_panel(
        barchart.Panel()
        .id(layout.id())
        .title("Error by horizon step: $machine")
        .datasource(DATASOURCE)
        .with_target(Sql("A", q.ERROR_BY_STEP))
        .x_field("step")
        .unit("watt")
        .span(12)
        .height(8)
    )
    board = board.with_panel(
        _table(
            layout, "Error by horizon step: fleet (matured forecasts, share of rated power)", q.FLEET_ERROR_BY_STEP
        ).override_by_regexp(".*rated power|band coverage", [_prop("unit", "percentunit")])
    )
    board = board.with_panel(
        statetimeline.Panel()
        .id(layout.id())
        .title("Model version serving $machine")
        .datasource(DATASOURCE)
        .with_target(Sql("A", q.MODEL_VERSION))
        .span(12)
        .height(8)
    )
    return board


def pipeline_health() -> dash.Dashboard:
    layout = Layout()
    board = _dashboard(
        "powercast-pipeline",
        "powercast: pipeline health",
        "Ingestion (rate and lag from readings.ingested_at), dead letters by reason, sensors gone quiet, the "
        "feature job's snapshots, the latest promotion decisions and drift checks.",
        "30s",
        "now-6h",
    ).with_variable(_custom_variable("stale_minutes", "Quiet for more than (min)", ["1", "2", "5", "10", "30"], "2"))
    board = board.with_panel(_series(layout, "Ingest rate", "reqps", ("A", q.INGEST_RATE)).interval("1m"))
    board = board.with_panel(_series(layout, "Ingest lag (ingested_at - ts)", "s", ("A", q.INGEST_LAG)).interval("1m"))
    board = board.with_panel(
        _series(layout, "Dead letters by reason", "short", ("A", q.DEAD_LETTERS))
        .interval("1m")
        .display_name("${__field.labels.reason}")
        .draw_style(common_models.GraphDrawStyle.BARS)
        .stacking(common.StackingConfig().mode(common_models.StackingMode.NORMAL))
    )
    board = board.with_panel(
        _table(layout, "Sensors quiet for more than $stale_minutes min", q.STALE_SENSORS).override_by_name(
            "silent for", [_prop("unit", "s")]
        )
    )
    board = board.with_panel(
        stat.Panel()
        .id(layout.id())
        .title("Feature snapshot age")
        .datasource(DATASOURCE)
        .with_target(Sql("A", q.SNAPSHOT_AGE))
        .unit("s")
        .thresholds(_steps((None, "green"), (900, "orange"), (3600, "red")))
        .span(6)
        .height(6)
    )
    board = board.with_panel(
        _table(layout, "Feature snapshots", q.SNAPSHOTS, width=18, height=6).override_by_name(
            "duration", [_prop("unit", "s")]
        )
    )
    board = board.with_panel(_table(layout, "Latest training promotions and rollbacks", q.PROMOTIONS, width=24))
    board = board.with_panel(_table(layout, "Latest drift checks", q.DRIFT_CHECKS, width=24))
    return board


DASHBOARDS = {
    "sensors-live.json": sensors_live,
    "forecast-vs-actual.json": forecast_vs_actual,
    "pipeline-health.json": pipeline_health,
}
