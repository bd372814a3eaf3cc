"""`powercast train`: cross-validate forecasters on the features in the database, refit, print the table."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING

import typer

from powercast.commands._context import settings
from powercast.training.defaults import DEFAULT_HOLDOUT_HOURS

if TYPE_CHECKING:
    from rich.table import Table

    from powercast.training.pipeline import TrainingReport

SUMMARY_COLUMNS = [
    ("mae", "MAE W"),
    ("rmse", "RMSE W"),
    ("smape", "sMAPE %"),
    ("mase", "MASE"),
    ("coverage", "cover 10-90"),
    ("width", "width W"),
    ("ratio_to_persistence", "ratio vs pers."),
    ("ratio_to_seasonal_day", "vs day ago"),
    ("ratio_to_seasonal_week", "vs week ago"),
    ("ratio_last_step", "ratio @15"),
]
STEP_COLUMNS = [
    ("mae", "MAE W"),
    ("rmse", "RMSE W"),
    ("smape", "sMAPE %"),
    ("coverage", "cover 10-90"),
    ("ratio_to_persistence", "ratio vs pers."),
    ("ratio_to_seasonal_day", "vs day ago"),
    ("ratio_to_seasonal_week", "vs week ago"),
]


def _number(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3f}"


def summary_table(report: TrainingReport, title: str) -> Table:
    """One row per model, overall metrics (persistence included for reference)."""
    from rich.table import Table

    table = Table(title=title)
    table.add_column("model")
    for _, header in SUMMARY_COLUMNS:
        table.add_column(header, justify="right")
    for name, row in report.summary.iterrows():
        label = f"{name} *" if name == report.best else str(name)
        table.add_row(label, *[_number(row[c]) for c, _ in SUMMARY_COLUMNS])
    return table


def step_table(report: TrainingReport, name: str) -> Table:
    """Metrics of one model per horizon step."""
    from rich.table import Table

    table = Table(title=f"{name}: per horizon step (minutes ahead)")
    table.add_column("step", justify="right")
    for _, header in STEP_COLUMNS:
        table.add_column(header, justify="right")
    for step, row in report.metrics[name].iterrows():
        table.add_row(str(step), *[_number(row[c]) for c, _ in STEP_COLUMNS])
    return table


def report_json(report: TrainingReport, n_windows: int) -> dict:
    """Machine-readable report: per model overall and per-step metrics."""

    def clean(record: dict) -> dict:
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in record.items()}

    models = {}
    for name, table in report.metrics.items():
        steps = table.drop(index="overall").reset_index().rename(columns={table.index.name or "index": "step"})
        models[name] = {
            "overall": clean(
                {
                    **table.loc["overall"].to_dict(),
                    "ratio_last_step": float(report.summary.loc[name, "ratio_last_step"]),
                }
            ),
            "steps": [clean(r) for r in steps.to_dict(orient="records")],
            "timings": report.timings.get(name, {}),
        }
    return {
        "data_start": report.data_start.isoformat(),
        "data_end": report.data_end.isoformat(),
        "n_windows": n_windows,
        "horizon": report.spec.horizon,
        "best": report.best,
        "models": models,
    }


def print_report(report: TrainingReport, n_windows: int, as_json: bool, per_step: bool, title: str) -> None:
    if as_json:
        typer.echo(json.dumps(report_json(report, n_windows), indent=2, default=str))
        return
    from rich.console import Console

    console = Console()
    if not console.is_terminal:  # piped to a file or another program: do not squeeze the tables into 80 columns
        console = Console(width=160)
    console.print(
        f"data {report.data_start:%Y-%m-%d %H:%M} .. {report.data_end:%Y-%m-%d %H:%M} UTC, "
        f"{n_windows} expanding windows, horizon {report.spec.horizon} min"
    )
    console.print(summary_table(report, title))
    if per_step:
        for name in report.metrics:
            console.print(step_table(report, name))
    console.print(f"best (lowest MAE among the requested models): {report.best}")


def train(
    ctx: typer.Context,
    models: str = typer.Option(
        "xgb,lstm",
        "--models",
        help="Comma-separated: persistence, seasonal_naive, seasonal_naive_week, moving_average, xgb, lstm.",
    ),
    windows: int = typer.Option(3, "--windows", min=1, help="Expanding cross-validation windows."),
    days: float = typer.Option(
        28.0, "--days", min=0.0, help="Train on the last DAYS days of features (bounds memory on long histories)."
    ),
    holdout_hours: float = typer.Option(
        DEFAULT_HOLDOUT_HOURS,
        "--holdout-hours",
        min=0.0,
        help="Keep the most recent HOURS out of training, so `powercast promote` "
        "judges the new model on data it has not seen (0: train on all).",
    ),
    issue_every: int = typer.Option(15, "--issue-every", min=1, help="Minutes between forecasts in a test window."),
    per_step: bool = typer.Option(False, "--per-step", help="Also print every model's metrics per horizon step."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    register: bool = typer.Option(
        None,
        "--register/--no-register",
        show_default=False,
        help="Log the run to MLflow and register the best model as the challenger "
        "[default: when the MLflow server answers].",
    ),
) -> None:
    """Cross-validate the models on the minute features in the database, refit them on all of it (but the latest
    --holdout-hours) and print the comparison (ratio to persistence: below 1 beats it)."""
    from powercast.jobs.training import train_and_register
    from powercast.models.catalog import parse_model_names

    run = train_and_register(
        settings(ctx),
        models=parse_model_names(models),
        days=days,
        windows=windows,
        holdout_hours=holdout_hours,
        issue_every=issue_every,
        register=register,
        progress=not as_json,
    )
    if run.note:
        typer.echo(run.note, err=True)
    print_report(run.report, windows, as_json, per_step, "cross-validation (database features)")
    if run.run_id:
        typer.echo(
            f"logged MLflow run {run.run_id}; registered {run.best} as version {run.model_version} (alias challenger)",
            err=as_json,
        )
