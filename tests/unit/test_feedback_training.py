"""Operators' labels change the next training exactly as described in powercast.training.feedback: minutes inside
forecasts rejected for sensor_fault or maintenance are no training target, minutes inside forecasts rejected as
model_wrong weigh more (XGBoost and LSTM), and without labels nothing changes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import powercast.models.lstm as lstm_module
import powercast.models.xgb as xgb_module
from powercast.models.base import target_weights
from powercast.training.feedback import apply_feedback, feedback_weights
from powercast.training.pipeline import train_models
from tests.mlops.fakes import LastValue
from tests.simulated import minute_frame

T0 = pd.Timestamp("2026-11-05 10:00", tz="UTC")


def labels(*rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["machine_id", "issue_ts", "verdict", "reason", "model_version"])


def minutes(start: pd.Timestamp, n: int) -> list[pd.Timestamp]:
    return list(pd.date_range(start, periods=n, freq="min"))


def test_label_kinds_map_to_exact_target_weights():
    given = labels(
        ("M-001", T0, "incorrect", "sensor_fault", "3"),
        ("M-001", T0 + pd.Timedelta(minutes=10), "incorrect", "model_wrong", "3"),  # overlaps the fault's last 5
        ("M-002", T0, "incorrect", "maintenance", "3"),
        ("M-002", T0 + pd.Timedelta(hours=1), "incorrect", "model_wrong", "4"),
        ("M-003", T0, "correct", None, "4"),
        ("M-003", T0 + pd.Timedelta(hours=1), "incorrect", "unusual_operation", "4"),
        ("M-003", T0 + pd.Timedelta(hours=2), "incorrect", "other", "4"),
    )
    weights = feedback_weights(given, horizon=15, model_wrong_weight=3.0)
    by = {(m, ts): w for m, ts, w in weights.itertuples(index=False)}
    m1 = minutes(T0, 25)
    assert [by[("M-001", t)] for t in m1] == [0.0] * 15 + [3.0] * 10  # exclusion wins where windows overlap
    assert [by[("M-002", t)] for t in minutes(T0, 15)] == [0.0] * 15
    assert [by[("M-002", t)] for t in minutes(T0 + pd.Timedelta(hours=1), 15)] == [3.0] * 15
    assert len(weights) == 25 + 15 + 15  # correct, unusual_operation and other change nothing
    assert not any(m == "M-003" for m, _ in by)


def test_training_data_counts_labels_and_keeps_only_minutes_of_the_frame():
    frame = pd.DataFrame({"machine_id": "M-001", "ts": minutes(T0, 20), "power": 1.0})
    data = apply_feedback(
        frame,
        labels(
            ("M-001", T0 + pd.Timedelta(minutes=10), "incorrect", "sensor_fault", "3"),  # 10 of its 15 in the frame
            ("M-001", T0, "correct", None, "3"),
            ("M-001", T0 + pd.Timedelta(minutes=1), "incorrect", "model_wrong", "4"),
        ),
    )
    assert data.feedback.counts["labels.total"] == 3 and data.feedback.counts["labels.correct"] == 1
    assert data.feedback.counts["labels.incorrect.sensor_fault"] == 1
    assert data.feedback.counts["labels.incorrect.model_wrong"] == 1
    assert data.feedback.counts["labels.incorrect.maintenance"] == 0
    assert data.feedback.excluded_minutes == 10 and data.feedback.upweighted_minutes == 9  # minutes 1..9
    assert data.feedback.rejected_rate == pytest.approx(2 / 3)
    assert data.feedback.rejected_rate_by_version == {"3": 0.5, "4": 1.0}
    metrics = data.feedback.metrics()
    assert metrics["feedback.labels.incorrect.sensor_fault"] == 1 and metrics["feedback.rejected_rate.v4"] == 1.0
    none = apply_feedback(frame, labels())
    assert none.sample_weight is None and none.feedback.rejected_rate is None and none.frame is frame


def test_target_weights_look_up_each_steps_bucket():
    index = pd.DataFrame({"machine_id": ["A", "A", "B"], "issue_ts": [T0, T0 + pd.Timedelta(minutes=2), T0]})
    weights = pd.DataFrame(
        {"machine_id": ["A", "A", "B"], "ts": [T0 + pd.Timedelta(minutes=2), T0, T0], "weight": [0.0, 3.0, 2.0]}
    )
    got = target_weights(weights, index, horizon=3)
    assert got.tolist() == [[3.0, 1.0, 0.0], [0.0, 1.0, 1.0], [2.0, 1.0, 1.0]]
    assert target_weights(None, index, 3) is None and target_weights(weights.iloc[:0], index, 3) is None


@pytest.fixture(scope="module")
def frame():
    return minute_frame(days=1, n_machines=2, seed=3, sensors=("power",))


@pytest.fixture(scope="module")
def weights(frame):
    machine = "M-001"
    ts = frame.loc[frame["machine_id"] == machine, "ts"]
    fault, wrong = ts.iloc[600], ts.iloc[900]
    data = apply_feedback(
        frame,
        labels((machine, fault, "incorrect", "sensor_fault", "1"), (machine, wrong, "incorrect", "model_wrong", "1")),
    )
    assert data.feedback.excluded_minutes == 15 and data.feedback.upweighted_minutes == 15
    return data.sample_weight


def _spy(monkeypatch, module, name, store):
    original = getattr(module, name)

    def wrapper(*args, **kwargs):
        result = original(*args, **kwargs)
        store.setdefault(name, []).append((args, kwargs, result))
        return result

    monkeypatch.setattr(module, name, wrapper)


def _xgb_fit(monkeypatch, frame, sample_weight):
    seen = {}
    _spy(monkeypatch, xgb_module, "build_design", seen)
    _spy(monkeypatch, xgb_module, "_sample_steps", seen)
    original_fit = xgb_module.xgb.XGBRegressor.fit

    def fit(self, X, y, **kwargs):
        seen["fit"] = (len(X), kwargs.get("sample_weight"))
        return original_fit(self, X, y, **kwargs)

    monkeypatch.setattr(xgb_module.xgb.XGBRegressor, "fit", fit)
    model = xgb_module.XGBoostForecaster(n_estimators=5, stride=5, validation_share=0.0).fit(frame, sample_weight)
    monkeypatch.undo()
    return model, seen


def test_xgb_drops_excluded_targets_and_weights_model_wrong_ones(monkeypatch, frame, weights):
    plain, seen_plain = _xgb_fit(monkeypatch, frame, None)
    weighted, seen = _xgb_fit(monkeypatch, frame, weights)
    assert seen_plain["fit"][1] is None  # no weights: the booster is fitted exactly as before
    design = seen["build_design"][0][2]
    rows, steps = seen["_sample_steps"][0][2]
    ok = (np.isfinite(design.anchor) & ~design.stuck)[rows] & np.isfinite(design.relative_targets()[rows, steps - 1])
    per_sample = target_weights(weights, design.index, 15)[rows, steps - 1]
    n_plain, (n_weighted, sample_weight) = seen_plain["fit"][0], seen["fit"]
    assert n_plain == ok.sum()
    assert n_weighted == n_plain - int((ok & (per_sample == 0)).sum()) < n_plain
    assert (sample_weight > 0).all()
    assert sorted(sample_weight.tolist()) == sorted(per_sample[ok & (per_sample > 0)].tolist())
    assert int((sample_weight == 3.0).sum()) == int((ok & (per_sample == 3.0)).sum()) > 0
    empty = xgb_module.XGBoostForecaster(n_estimators=5, stride=5, validation_share=0.0).fit(frame, weights.iloc[:0])
    pd.testing.assert_frame_equal(plain.predict(frame), empty.predict(frame))


def test_lstm_masks_excluded_targets_and_draws_model_wrong_issues_more(monkeypatch, frame, weights):
    def fit(sample_weight):
        seen = {}
        _spy(monkeypatch, lstm_module.LSTMForecaster, "_inputs", seen)
        original_train = lstm_module.LSTMForecaster._train

        def train(self, sequence, features, target, train_mask, issue_weights=None):
            seen["train"] = (target.copy(), issue_weights)
            return original_train(self, sequence, features, target, train_mask, issue_weights)

        monkeypatch.setattr(lstm_module.LSTMForecaster, "_train", train)
        lstm_module.LSTMForecaster(hidden=8, max_epochs=1, stride=5, batch_size=512).fit(frame, sample_weight)
        monkeypatch.undo()
        return seen["_inputs"][0][0][2], *seen["train"]

    plain_design, plain_target, plain_weights = fit(None)
    design, target, issue_weights = fit(weights)
    assert plain_weights is None
    w = target_weights(weights, design.index, 15)
    assert np.isnan(target[w == 0]).all() and (w == 0).any()
    key = pd.MultiIndex.from_frame(design.index)
    plain = pd.DataFrame(plain_target, index=pd.MultiIndex.from_frame(plain_design.index)).reindex(key).to_numpy()
    untouched = w > 0
    assert np.array_equal(np.isnan(target[untouched]), np.isnan(plain[untouched]))
    np.testing.assert_allclose(target[untouched & ~np.isnan(target)], plain[untouched & ~np.isnan(plain)])
    touched = (w == 3.0).any(axis=1)
    assert touched.any() and (issue_weights[touched] > 1).all() and (issue_weights[~touched] == 1).all()


class RecordingLastValue(LastValue):
    supports_sample_weight = True
    fits: list = []

    def fit(self, frame, sample_weight=None):
        RecordingLastValue.fits.append(sample_weight)
        return super().fit(frame)


def test_pipeline_passes_weights_to_every_fit_of_models_that_take_them(monkeypatch, frame, weights):
    import powercast.training.pipeline as pipeline

    monkeypatch.setattr(
        pipeline, "make_forecaster", lambda name, horizon, **kw: RecordingLastValue() if name == "xgb" else LastValue()
    )
    RecordingLastValue.fits = []
    report = train_models(frame, ["xgb"], n_windows=2, sample_weight=weights)
    assert len(RecordingLastValue.fits) == 3  # two CV folds and the refit
    assert all(w is weights or w.equals(weights) for w in RecordingLastValue.fits)
    assert report.best == "xgb"
    RecordingLastValue.fits = []
    train_models(frame, ["xgb"], n_windows=2)
    assert RecordingLastValue.fits == [None, None, None]  # no weights: fitted as before
