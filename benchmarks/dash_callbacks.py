"""Control-center benchmark: the data functions behind the Fleet and Machine pages' callbacks, on a real PostgreSQL.

- Fleet: `dash_app.data.fleet.fleet_view` (latest readings of every machine, state rule, one page of 25 rows with
  their current forecasts and sparklines) with 100 and 1,000 machines (one hour of 10-second readings each and
  forecasts issued every 5 minutes). Target: under 200 ms at 100 machines.
- Machine: `dash_app.data.machine.load_machine` + `machine_figure` for one machine over 6 hours of 10-second
  readings of four sensors (8,640 readings) with its forecasts.

    python -m benchmarks.dash_callbacks [--repeat 20] [--database-url URL]

Without --database-url it starts an embedded PostgreSQL in a temporary directory and removes it afterwards.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from dash_app.data.fleet import fleet_view
from dash_app.data.machine import load_machine, machine_figure
from powercast.db.connection import connect
from tests.ui.seed import seed_fleet


def timed(fn, repeat: int) -> dict[str, float]:
    fn()  # warm the caches once
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"median_ms": round(statistics.median(times), 1), "p90_ms": round(times[int(0.9 * (len(times) - 1))], 1)}


def run(url: str, repeat: int) -> dict:
    out = {}
    conn = connect(url)
    try:
        now = datetime.now(UTC)
        seed_fleet(url, prefix="F", machines=100, hours=1, now=now)
        out["fleet_100"] = timed(lambda: fleet_view(conn, datetime.now(UTC)), repeat)
        seed_fleet(url, prefix="G", machines=900, hours=1, now=now, seed=8)
        out["fleet_1000"] = timed(lambda: fleet_view(conn, datetime.now(UTC)), repeat)
        out["fleet_1000_page_20"] = timed(lambda: fleet_view(conn, datetime.now(UTC), page=20), repeat)
        seeded = seed_fleet(url, prefix="H", machines=1, hours=6, now=now, seed=9)
        machine = seeded.machines[0]

        def machine_page():
            return machine_figure(load_machine(conn, machine, datetime.now(UTC), 6.0))

        out["machine_6h_10s"] = timed(machine_page, repeat)
        out["machine_6h_query_only"] = timed(lambda: load_machine(conn, machine, datetime.now(UTC), 6.0), repeat)
    finally:
        conn.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--database-url", default=None, help="a migrated, empty PostgreSQL (default: embedded)")
    args = parser.parse_args()
    if args.database_url:
        print(json.dumps(run(args.database_url, args.repeat), indent=2))
        return
    from powercast.config import Settings
    from powercast.db.migrate import migrate
    from powercast.stack.postgres import EmbeddedPostgres
    from powercast.stack.process import free_port

    root = Path(tempfile.mkdtemp(prefix="powercast-bench-"))
    root.chmod(0o755)
    server = EmbeddedPostgres(Settings(_env_file=None, data_dir=root, postgres_port=free_port()))
    try:
        url = server.start()
        migrate(url)
        print(json.dumps(run(url, args.repeat), indent=2))
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
