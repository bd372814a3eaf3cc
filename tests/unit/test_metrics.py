"""Forecast metrics on hand-computed examples."""

import math

import numpy as np
import pandas as pd
import pytest

from powercast.training import metrics


def test_point_metrics_by_hand():
    y, yhat = np.array([10.0, 20.0, 30.0]), np.array([12.0, 18.0, 33.0])
    assert metrics.mae(y, yhat) == pytest.approx((2 + 2 + 3) / 3)
    assert metrics.rmse(y, yhat) == pytest.approx(math.sqrt((4 + 4 + 9) / 3))
    expected_smape = 100 * np.mean([2 * 2 / 22, 2 * 2 / 38, 2 * 3 / 63])
    assert metrics.smape(y, yhat) == pytest.approx(expected_smape)
    assert metrics.mase(y, yhat, scale=2.0) == pytest.approx(7 / 3 / 2)


def test_smape_counts_both_zero_as_perfect():
    assert metrics.smape(np.array([0.0, 10.0]), np.array([0.0, 10.0])) == 0.0
    assert metrics.smape(np.array([0.0]), np.array([5.0])) == pytest.approx(200.0)


def test_interval_metrics_by_hand():
    y = np.array([1.0, 5.0, 9.0, 3.0])
    lo, hi = np.array([0.0, 6.0, 8.0, 3.0]), np.array([2.0, 7.0, 8.5, 4.0])
    assert metrics.coverage(y, lo, hi) == pytest.approx(2 / 4)  # 1 in, 5 below, 9 above, 3 on the edge
    assert metrics.width(lo, hi) == pytest.approx((2 + 1 + 0.5 + 1) / 4)


def _evaluation_frame():
    return pd.DataFrame(
        {
            "step": [1, 2, 1, 2],
            "y": [10.0, 12.0, 20.0, np.nan],
            "yhat": [11.0, 15.0, 18.0, 1.0],
            "yhat_lo": [9.0, 13.0, 17.0, 0.0],
            "yhat_hi": [12.0, 16.0, 21.0, 2.0],
            "persistence": [9.0, 9.0, 22.0, 22.0],
            "naive_scale": [1.0, 1.0, 2.0, 2.0],
        }
    )


def test_table_per_step_and_overall_ignores_missing_actuals():
    table = metrics.metrics_table(_evaluation_frame())
    assert list(table.index) == [1, 2, "overall"]
    assert table.loc[1, "mae"] == pytest.approx((1 + 2) / 2)
    assert table.loc[2, "n"] == 1 and table.loc[2, "mae"] == pytest.approx(3)
    assert table.loc["overall", "mae"] == pytest.approx((1 + 3 + 2) / 3)
    # persistence errors: 1, 3, 2 -> MAE 2; model MAE 2 -> ratio 1
    assert table.loc["overall", "ratio_to_persistence"] == pytest.approx(1.0)
    assert table.loc[1, "ratio_to_persistence"] == pytest.approx(1.5 / 1.5)
    assert table.loc["overall", "mase"] == pytest.approx(np.mean([1 / 1, 3 / 1, 2 / 2]))
    assert table.loc["overall", "coverage"] == pytest.approx(2 / 3)  # 10 in, 12 below 13, 20 in


def test_ratio_below_one_when_model_beats_persistence():
    frame = _evaluation_frame().assign(yhat=lambda f: f["y"].fillna(0) + 0.5)
    assert metrics.evaluate(frame)["ratio_to_persistence"] == pytest.approx(0.5 / 2)


def test_ratios_to_the_seasonal_references_skip_points_without_one():
    frame = _evaluation_frame().assign(yhat=lambda f: f["y"].fillna(0) + 0.5)
    frame["seasonal_day"] = frame["y"] + 2.0  # error 2 everywhere
    frame["seasonal_week"] = np.nan
    frame.loc[0, "seasonal_week"] = frame.loc[0, "y"] - 4.0
    out = metrics.evaluate(frame)
    assert out["ratio_to_seasonal_day"] == pytest.approx(0.5 / 2)
    assert out["ratio_to_seasonal_week"] == pytest.approx(0.5 / 4)  # only the one point with a week-ago value
    assert math.isnan(metrics.evaluate(frame.drop(columns="seasonal_week"))["ratio_to_seasonal_week"])
