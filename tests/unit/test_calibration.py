"""Per-step calibration on cross-validation: the blend picks persistence where the model is worse, the conformal band
covers its share, and each fold is calibrated without its own forecasts."""

import numpy as np
import pandas as pd
import pytest

from powercast.errors import PowercastError
from powercast.models.calibration import apply_to_cv, cross_fitted, fit_calibration, identity
from powercast.training.metrics import coverage, metrics_table
from powercast.training.pipeline import ensemble_cv, train_models
from powercast.training.tracking import flat_params
from tests.simulated import minute_frame

QUANTILES = (0.1, 0.9)


def cv_frame(n_issues=600, horizon=3, folds=3, model_noise=(0.1, 5.0, 0.5), seed=0) -> pd.DataFrame:
    """CV-shaped forecasts: y is a random walk step from `persistence`; the model knows the step up to noise whose
    size differs per step (step 1 good, step 3 so-so), except at step 2 where it only guesses (worse than
    persistence)."""
    rng = np.random.default_rng(seed)
    rows = []
    issue = pd.date_range("2026-11-02", periods=n_issues, freq="15min", tz="UTC")
    for k in range(horizon):
        last = rng.uniform(100, 200, n_issues)
        change = rng.normal(0, 10, n_issues)
        knows = 0.0 if k == 1 else 1.0
        model = last + knows * change + rng.normal(0, 10 * model_noise[k], n_issues)
        rows.append(
            pd.DataFrame(
                {
                    "machine_id": "M",
                    "issue_ts": issue,
                    "step": k + 1,
                    "y": last + change,
                    "persistence": last,
                    "yhat": model,
                    "yhat_lo": model - 1.0,  # far too narrow: the offsets must widen it
                    "yhat_hi": model + 1.0,
                    "power_scale": 100.0,
                    "fold": np.arange(n_issues) * folds // n_issues,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def test_each_step_keeps_the_model_only_where_it_beats_persistence():
    calibration = fit_calibration(cv_frame(), horizon=3, quantiles=QUANTILES)
    assert calibration.weight[0] >= 0.9  # the model is good at step 1
    assert calibration.weight[1] == 0.0  # far worse than persistence at step 2: persistence alone
    assert 0.0 < calibration.weight[2] < 1.0  # in between: a blend


def test_calibrated_forecasts_are_never_worse_than_persistence_where_learned():
    cv = cv_frame()
    calibrated = apply_to_cv(cv, fit_calibration(cv, 3, QUANTILES))
    ratios = metrics_table(calibrated)["ratio_to_persistence"].drop(index="overall")
    assert (ratios <= 1.0 + 1e-9).all()
    assert metrics_table(cv)["ratio_to_persistence"].loc[2] > 2  # the check can fail: the model alone is worse


def test_conformal_band_covers_the_asked_share_on_held_out_folds():
    cv = cv_frame(n_issues=3000)
    honest, _ = cross_fitted(cv, 3, QUANTILES)
    assert coverage(cv["y"], cv["yhat_lo"], cv["yhat_hi"]) < 0.4  # the raw band is far too narrow
    for _, part in honest.groupby("step"):
        assert 0.76 <= coverage(part["y"], part["yhat_lo"], part["yhat_hi"]) <= 0.84
        below = (part["y"] < part["yhat_lo"]).mean()
        assert 0.06 <= below <= 0.14  # each tail gets its share


def test_each_fold_is_calibrated_without_its_own_forecasts():
    cv = cv_frame()
    changed = cv.copy()
    fold0 = changed["fold"] == 0
    changed.loc[fold0, "y"] += np.random.default_rng(1).normal(0, 50, fold0.sum())
    a, _ = cross_fitted(cv, 3, QUANTILES)
    b, _ = cross_fitted(changed, 3, QUANTILES)
    cols = ["yhat", "yhat_lo", "yhat_hi"]
    np.testing.assert_allclose(a.loc[fold0, cols], b.loc[fold0, cols])
    assert not np.allclose(a.loc[~fold0, cols], b.loc[~fold0, cols])  # the other folds learned from fold 0


def test_one_fold_is_split_in_time_halves():
    cv = cv_frame(folds=1)
    honest, calibration = cross_fitted(cv, 3, QUANTILES)
    assert len(honest) == len(cv) and calibration.weight[1] == 0.0


def test_identity_changes_nothing():
    cv = cv_frame()
    out = apply_to_cv(cv, identity(3))
    pd.testing.assert_frame_equal(out, cv)


def test_too_few_points_leave_the_model_alone():
    cv = cv_frame(n_issues=10)
    calibration = fit_calibration(cv, 3, QUANTILES)
    np.testing.assert_array_equal(calibration.weight, 1.0)
    np.testing.assert_array_equal(calibration.lo_offset, 0.0)


@pytest.mark.parametrize("weight", [0.0, 0.5])
def test_apply_moves_point_and_band_together(weight):
    calibration = identity(2)
    calibration.weight[:] = weight
    last = np.array([100.0])
    lo, point, hi = calibration.apply(
        np.array([[90.0, 95]]), np.array([[110.0, 120]]), np.array([[130.0, 140]]), last, np.array([1.0])
    )
    np.testing.assert_allclose(point, 100 + weight * np.array([[10.0, 20]]))
    np.testing.assert_allclose(point - lo, [[20.0, 25]])
    np.testing.assert_allclose(hi - point, [[20.0, 20]])


def test_ensemble_cv_is_the_mean_of_its_members():
    a = cv_frame(n_issues=40)
    b = a.assign(yhat=a["yhat"] + 10, yhat_lo=a["yhat_lo"] + 20, yhat_hi=a["yhat_hi"] + 30).sample(
        frac=1, random_state=1
    )
    mean = ensemble_cv([a, b]).sort_values(["fold", "machine_id", "issue_ts", "step"])
    expected = a.sort_values(["fold", "machine_id", "issue_ts", "step"])
    np.testing.assert_allclose(mean["yhat"], expected["yhat"] + 5)
    np.testing.assert_allclose(mean["yhat_hi"], expected["yhat_hi"] + 15)
    with pytest.raises(PowercastError, match="different issues"):
        ensemble_cv([a, b.iloc[1:]])


def test_training_calibrates_the_learned_model_and_keeps_its_own_metrics():
    frame = minute_frame(days=2, n_machines=2, seed=3)
    report = train_models(frame, ["xgb"], n_windows=2, window=240, params={"xgb": {"n_estimators": 15, "stride": 10}})
    calibration = report.calibrations["xgb"]
    assert report.models["xgb"].calibration_ is calibration
    assert ((calibration.weight >= 0) & (calibration.weight <= 1)).all()
    assert set(report.raw_metrics) == {"xgb"} and "persistence" not in report.calibrations
    # the reported CV is the calibrated one: its point forecasts differ from the model's own where w < 1
    raw = report.raw_metrics["xgb"].loc["overall", "mae"]
    assert (report.metrics["xgb"].loc["overall", "mae"] != raw) or (calibration.weight == 1).all()
    params = flat_params(report)
    assert params["xgb.blend_weight_step_1"] == pytest.approx(float(calibration.weight[0]), abs=1e-4)
    uncalibrated = train_models(
        frame,
        ["xgb"],
        n_windows=2,
        window=240,
        refit=False,
        calibrate=False,
        params={"xgb": {"n_estimators": 15, "stride": 10}},
    )
    pd.testing.assert_frame_equal(uncalibrated.metrics["xgb"], report.raw_metrics["xgb"])
