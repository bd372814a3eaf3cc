"""write_forecasts (COPY into a temporary table, one upsert) stores the frame exactly and a second write of the
same issue replaces the first."""

from __future__ import annotations

import uuid

import numpy as np
import pandas as pd
import pytest

from powercast.db.connection import connect
from powercast.serving.forecasts import latest_forecast, write_forecasts

ISSUE = pd.Timestamp("2003-03-03 10:00", tz="UTC")
AWKWARD = [0.1 + 0.2, 1e-300, 12345.678901234567, 2.0**53 + 1, -0.0, 7.0, 1 / 3, 5e-324, 123456789.123, 9.9]


def _frame(machine: str, yhat: list[float], band: bool = True) -> pd.DataFrame:
    steps = np.arange(1, len(yhat) + 1)
    return pd.DataFrame(
        {
            "machine_id": machine,
            "issue_ts": ISSUE,
            "step": steps,
            "ts": ISSUE + pd.to_timedelta(steps, unit="min"),
            "yhat": yhat,
            "yhat_lo": [y - 1 for y in yhat] if band else np.nan,
            "yhat_hi": [y + 1 for y in yhat] if band else np.nan,
        }
    )


@pytest.fixture
def conn(postgres):
    conn = connect(postgres.app_database_url)
    yield conn
    conn.rollback()
    with conn.cursor() as cur:
        cur.execute("DELETE FROM forecasts WHERE issue_ts = %s", (ISSUE,))
    conn.commit()
    conn.close()


def test_values_arrive_exactly_and_a_missing_band_is_null(conn):
    machine = f'W-{uuid.uuid4().hex[:6]}, "quoted"'  # a comma and quotes survive the CSV
    assert write_forecasts(conn, _frame(machine, AWKWARD, band=False), "xgb", 3) == len(AWKWARD)
    stored = latest_forecast(conn, machine)
    assert stored["yhat"].tolist() == AWKWARD
    assert stored["yhat_lo"].isna().all() and stored["yhat_hi"].isna().all()
    assert stored["step"].tolist() == list(range(1, 11))
    assert (pd.to_datetime(stored["ts"], utc=True) == ISSUE + pd.to_timedelta(stored["step"], unit="min")).all()
    assert set(stored["model_version"]) == {"3"} and set(stored["model_name"]) == {"xgb"}


def test_writing_the_same_issue_again_replaces_it(conn):
    machine = f"W-{uuid.uuid4().hex[:6]}"
    write_forecasts(conn, _frame(machine, [1.0, 2.0, 3.0]), "xgb", "1")
    assert write_forecasts(conn, _frame(machine, [4.0, 5.0, 6.0]), "lstm", "2") == 3
    stored = latest_forecast(conn, machine)
    assert stored["yhat"].tolist() == [4.0, 5.0, 6.0] and stored["yhat_lo"].tolist() == [3.0, 4.0, 5.0]
    assert set(stored["model_version"]) == {"2"} and set(stored["model_name"]) == {"lstm"}
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM forecasts WHERE machine_id = %s", (machine,))
        assert cur.fetchone()[0] == 3


def test_an_empty_frame_writes_nothing(conn):
    assert write_forecasts(conn, _frame("W-none", [1.0]).iloc[:0], "xgb", "1") == 0
