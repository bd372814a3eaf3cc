"""`powercast features` end to end: prints what it covered, then that nothing is new."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from psycopg2.extras import execute_values
from typer.testing import CliRunner

from powercast.cli import app
from powercast.db.connection import connect

T0 = datetime(2026, 4, 6, 10, 0, tzinfo=UTC)


def _run(postgres, *args):
    env = {"DATABASE_URL": postgres.app_database_url}
    return CliRunner().invoke(app, ["features", *args], env=env)


def test_features_command_reports_coverage(postgres):
    conn = connect(postgres.app_database_url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "DELETE FROM features_1m; DELETE FROM feature_snapshots; "
                "DELETE FROM readings WHERE machine_id LIKE 'FC-%%'"
            )
            rows = [
                ("FC-1", "power", T0 + timedelta(seconds=s), 1000.0 + s, "W", str(uuid.uuid4()))
                for s in range(0, 300, 10)
            ]
            execute_values(cur, "INSERT INTO readings (machine_id, sensor, ts, value, unit, event_id) VALUES %s", rows)
        conn.commit()

        first = _run(postgres, "--full")
        assert first.exit_code == 0, first.output
        assert "(full: asked for a full recompute)" in first.output
        assert (
            "covered 2026-04-06 10:00 .. 2026-04-06 10:05 UTC, 1 machine(s), 5 minute(s) recomputed, "
            "5 row(s) written" in first.output
        )

        bounded = _run(postgres, "--full", "--since", "2026-04-06T10:01", "--until", "2026-04-06T10:03")
        assert bounded.exit_code == 0, bounded.output
        assert "2 minute(s) recomputed, 0 row(s) written" in bounded.output
        assert "nothing new: every recomputed minute was already up to date" in bounded.output

        bad = _run(postgres, "--since", "2026-04-06T10:03", "--until", "2026-04-06T10:01")
        assert bad.exit_code != 0 and "--since must be before --until" in str(bad.exception)
    finally:
        with conn.cursor() as cur:
            cur.execute(
                "DELETE FROM features_1m; DELETE FROM feature_snapshots; "
                "DELETE FROM readings WHERE machine_id LIKE 'FC-%%'"
            )
        conn.commit()
        conn.close()
