"""The Review page's pure parts: keys, buttons to labels, moving through the queue, history rows."""

from datetime import UTC, datetime

import pandas as pd
import pytest

from dash_app import ids
from dash_app.data import review
from dash_app.pages.review import _after_label

ISSUE = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_keys_round_trip():
    key = review.key_of("M-001", pd.Timestamp(ISSUE))
    assert review.parse_key(key) == ("M-001", ISSUE)
    with pytest.raises(ValueError):
        review.parse_key("no separator")


@pytest.mark.parametrize(
    ("button", "verdict", "reason"),
    [
        (ids.REVIEW_CORRECT, "correct", None),
        (ids.REVIEW_REASON_BUTTONS["sensor_fault"], "incorrect", "sensor_fault"),
        (ids.REVIEW_REASON_BUTTONS["model_wrong"], "incorrect", "model_wrong"),
    ],
)
def test_buttons_stand_for_labels(button, verdict, reason):
    label = review.label_for_button(button, "note")
    assert (label.verdict, label.reason, label.comment) == (verdict, reason, "note")
    assert review.label_for_button(ids.REVIEW_SKIP, None) is None


def test_every_reason_has_a_shortcut_key():
    assert set(review.SHORTCUTS.values()) == {ids.REVIEW_CORRECT, ids.REVIEW_SKIP, *ids.REVIEW_REASON_BUTTONS.values()}
    with open("dash_app/assets/shortcuts.js", encoding="utf-8") as js:
        text = js.read()
    for key, button in review.SHORTCUTS.items():
        assert f'"{key}": "{button}"' in text


def test_queue_navigation():
    queue = ["a", "b", "c"]
    assert review.next_key(queue, "a") == "b"
    assert review.next_key(queue, "c") == "a"
    assert review.next_key(["a"], "a") is None
    assert review.next_key(queue, "old") == "a"
    assert review.choose(ids.REVIEW_QUEUE_DATA, None, queue, None) == "a"
    assert review.choose(ids.REVIEW_QUEUE_DATA, None, queue, "b") == "b"  # a refresh keeps the selection
    assert review.choose(None, "c", queue, "b") == "c"
    assert _after_label(queue, "b") == "c"  # labelled from the queue: move on
    assert _after_label(queue, "old") == "old"  # re-labelled an old one: stay and see its history


def test_history_rows_mark_the_current_label():
    history = pd.DataFrame(
        {
            "labelled_at": [pd.Timestamp(ISSUE), pd.Timestamp(ISSUE) - pd.Timedelta(minutes=5)],
            "labelled_by": ["olga", "olga"],
            "verdict": ["incorrect", "correct"],
            "reason": ["model_wrong", None],
            "comment": ["", "ok"],
            "superseded_at": [None, pd.Timestamp(ISSUE)],
        }
    )
    rows = review.history_rows(history)
    assert [r["status"] for r in rows] == ["current", "superseded"]
    assert rows[0]["reason"] == "model wrong"
    assert review.describe(None) == "not labelled yet"


def test_forecast_error_text():
    steps = pd.DataFrame({"yhat": [10.0, 10.0], "yhat_lo": [9.0, 9.0], "yhat_hi": [11.0, 11.0], "actual": [10.5, 14.0]})
    assert review.forecast_error(steps) == "MAE 2 W · 50% of minutes inside the band"
