"""`powercast backtest --input FILE`: the same cross-validation on a user's own long-format readings."""

from __future__ import annotations

from pathlib import Path

import typer

from powercast.commands.train import print_report


def backtest(
    input_path: Path = typer.Option(
        ...,
        "--input",
        "-i",
        help="CSV or Parquet of long readings: machine_id, sensor, ts, value (only power is required).",
    ),
    models: str = typer.Option(
        "xgb,lstm",
        "--models",
        help="Comma-separated: persistence, seasonal_naive, seasonal_naive_week, moving_average, xgb, lstm.",
    ),
    windows: int = typer.Option(3, "--windows", min=1, help="Expanding cross-validation windows."),
    issue_every: int = typer.Option(15, "--issue-every", min=1, help="Minutes between forecasts in a test window."),
    as_json: bool = typer.Option(
        False,
        "--json",
        help="Print per model MAE, RMSE, sMAPE, coverage and ratios to "
        "persistence and to the seasonal naive (one day / one week earlier), overall and per horizon step, as JSON.",
    ),
) -> None:
    """Backtest forecasters on your own history: readings of any sampling (10 s, 1 min, 10 min meters) are
    aggregated to minutes, then cross-validated with expanding windows; prints overall and per-step tables."""
    from powercast.features.aggregate import minute_frame_from_readings
    from powercast.features.io import load_readings_file
    from powercast.models.catalog import parse_model_names
    from powercast.training.pipeline import train_models

    names = parse_model_names(models)
    frame = minute_frame_from_readings(load_readings_file(input_path))
    report = train_models(frame, names, n_windows=windows, issue_every=issue_every, refit=False, progress=not as_json)
    print_report(report, windows, as_json, per_step=True, title=f"backtest of {input_path.name}")
