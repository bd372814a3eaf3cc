"""Figures a training run logs: forecast against actual on a holdout, error per horizon, feature importance."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _figure(width: float = 9.0, height: float = 4.0):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width, height))
    return fig, ax


def forecast_vs_actual(cv: pd.DataFrame, model_name: str, steps: tuple[int, ...] = (1, 15)):
    """The last CV fold of one machine: actual power against the forecast at a few horizon steps, with band."""
    last_fold = cv[cv["fold"] == cv["fold"].max()]
    machine = sorted(last_fold["machine_id"].unique())[0]
    part = last_fold[last_fold["machine_id"] == machine]
    fig, ax = _figure()
    actual = part.drop_duplicates("ts").sort_values("ts")
    ax.plot(actual["ts"], actual["y"], color="black", linewidth=1.2, label="actual")
    for step in steps:
        at = part[part["step"] == step].sort_values("ts")
        if at.empty:
            continue
        ax.plot(at["ts"], at["yhat"], linewidth=1.0, label=f"forecast, {step} min ahead")
        ax.fill_between(at["ts"], at["yhat_lo"], at["yhat_hi"], alpha=0.15)
    ax.set_title(f"{model_name}: holdout (last fold), machine {machine}")
    ax.set_ylabel("power (W)")
    ax.legend(loc="upper left", fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def error_by_horizon(per_step: dict[str, pd.DataFrame]):
    """MAE per horizon step, one line per model (tables from `powercast.training.metrics.metrics_table`)."""
    fig, ax = _figure(7.0, 4.0)
    for name, table in per_step.items():
        rows = table.drop(index="overall", errors="ignore")
        ax.plot(rows.index.astype(int), rows["mae"], marker="o", markersize=3, label=name)
    ax.set_xlabel("minutes ahead")
    ax.set_ylabel("MAE (W)")
    ax.set_title("cross-validated error per horizon step")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def feature_importance(importance: pd.Series, top: int = 25):
    """Horizontal bars of the `top` most important features."""
    values = importance.sort_values(ascending=False).head(top)[::-1]
    fig, ax = _figure(7.0, max(3.0, 0.25 * len(values) + 1))
    ax.barh(np.arange(len(values)), values.to_numpy())
    ax.set_yticks(np.arange(len(values)), values.index, fontsize=7)
    ax.set_xlabel("importance (gain)")
    ax.set_title("XGBoost feature importance")
    fig.tight_layout()
    return fig
