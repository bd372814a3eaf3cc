"""Accuracy benchmark: expanding-window CV of every forecaster on 14 days of 10 machines (fixed seed).

Prints each model's CV metrics, its MAE ratio to persistence at the 15-minute step and over horizons 1-15,
its worst per-step ratio, its MAE ratio to the seasonal naive (same minute one day / one week earlier: the second
reference) over horizons 1-15, interval coverage, and its training wall time: `cv_s` (the n_windows CV fits and
forecasts), `refit_s` (the final fit on all data), `wall_s` (the whole train_models call, which also
cross-validates persistence for the ratios), and `peak_rss_mb`, the peak resident memory of the process that ran
it (each model runs in its own forked process, which inherits the data frame).
Targets: XGBoost and LSTM at most 0.75 x persistence MAE over horizons 1-15, 10%-90% coverage in 0.75-0.90.

    python -m benchmarks.accuracy [--days 14] [--machines 10] [--windows 3]

Data: `--days` of `powercast.simulator`'s fleet (no anomalies) up to a fixed Thursday, aggregated to the minute
frame from its 10-second readings as ingested data would be (`tests.simulated.minute_frame`).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import time
from pathlib import Path

import pandas as pd

from powercast.features.spec import FeatureSpec
from powercast.training.pipeline import train_models

MODELS = ["persistence", "seasonal_naive", "seasonal_naive_week", "moving_average", "xgb", "lstm"]
TARGET_RATIO, COVERAGE = 0.75, (0.75, 0.90)


# Fixed end (a Thursday, 00:00 UTC) so the test windows fall on working days whatever the date of the run.
SIMULATION_END = pd.Timestamp("2026-11-26T00:00Z")


def load_data(days: float, machines: int, seed: int) -> pd.DataFrame:
    """`days` of the simulator's fleet up to SIMULATION_END as a minute frame."""
    from tests.simulated import minute_frame

    return minute_frame(days, machines, seed, start=(SIMULATION_END - pd.Timedelta(days=days)).isoformat())


_FRAME: pd.DataFrame | None = None  # set before forking, inherited by each model's process


def run_model(name: str, windows: int, spec: FeatureSpec) -> dict:
    frame = _FRAME
    started = time.perf_counter()
    report = train_models(frame, [name], n_windows=windows, spec=spec, progress=False)
    wall = time.perf_counter() - started
    table = report.metrics[name]
    overall = table.loc["overall"]
    return {
        "model": name,
        "mae": overall["mae"],
        "rmse": overall["rmse"],
        "smape": overall["smape"],
        "mase": overall["mase"],
        "coverage": overall["coverage"],
        "width": overall["width"],
        "ratio_h1_15": overall["ratio_to_persistence"],
        "ratio_h15": table.loc[spec.horizon, "ratio_to_persistence"],
        "ratio_h1": table.loc[1, "ratio_to_persistence"],
        "worst_step_ratio": table.drop(index="overall")["ratio_to_persistence"].max(),
        "vs_day_h1_15": overall["ratio_to_seasonal_day"],
        "vs_week_h1_15": overall["ratio_to_seasonal_week"],
        "cv_s": report.timings[name]["cv_s"],
        "refit_s": report.timings[name].get("refit_s", float("nan")),
        "wall_s": wall,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=14)
    parser.add_argument("--machines", type=int, default=10)
    parser.add_argument("--windows", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    args = parser.parse_args()

    global _FRAME
    frame = _FRAME = load_data(args.days, args.machines, args.seed)
    print(
        f"simulator: {frame['machine_id'].nunique()} machines, {frame['ts'].min()} .. {frame['ts'].max()}, "
        f"{len(frame)} minute rows; {args.windows} expanding CV windows, forecasts every 15 min, horizon 15"
    )
    spec = FeatureSpec()
    rows = []
    for name in args.models.split(","):
        with multiprocessing.get_context("fork").Pool(1) as pool:
            rows.append(pool.apply(run_model, (name, args.windows, spec)))
        row = rows[-1]
        print(
            f"  {name}: ratio h1-15 {row['ratio_h1_15']:.3f}, coverage {row['coverage']:.3f}, "
            f"wall {row['wall_s']:.0f} s",
            flush=True,
        )
    table = pd.DataFrame(rows).set_index("model")
    with pd.option_context("display.width", 200, "display.max_columns", 30, "display.float_format", "{:.3f}".format):
        print(table)
    for name in ("xgb", "lstm"):
        if name in table.index:
            row = table.loc[name]
            ratio_ok = row["ratio_h1_15"] <= TARGET_RATIO
            cover_ok = COVERAGE[0] <= row["coverage"] <= COVERAGE[1]
            print(
                f"{name}: MAE ratio to persistence over h1-15 {row['ratio_h1_15']:.3f} (target <= {TARGET_RATIO}: "
                f"{'met' if ratio_ok else 'NOT met'}), at h15 {row['ratio_h15']:.3f}; 10-90% coverage "
                f"{row['coverage']:.3f} (target {COVERAGE[0]}-{COVERAGE[1]}: {'met' if cover_ok else 'NOT met'})"
            )
    print(
        "train_s = cv_s + refit_s per model: "
        + ", ".join(f"{m} {r.cv_s + r.refit_s:.0f} s" for m, r in table.iterrows())
    )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
