"""Time of every Grafana panel and alert query on a week of readings of 100 machines (target: 500 ms each).

    python -m benchmarks.grafana_queries [--days 7] [--machines 100] [--repeat 5] \
        [--database-url URL]

1. Starts an embedded PostgreSQL in a temporary directory (or uses --database-url, which must be empty of
   powercast data), applies the migrations, and fills it up to now with the simulated fleet of
   `powercast.simulator` (tests/grafana/fleet.py): readings every 10 s COPYed in time order with `ingested_at`
   just after `ts`, the 1-minute features of the same values, a forecast issued every minute for every machine
   (15 steps), two promotion decisions and some dead letters; then VACUUM ANALYZE (what autovacuum does).
2. For each query of the provisioned dashboards and alert rules: expands the macros as Grafana's PostgreSQL data
   source does for the dashboard's default time range (panels) or the rule's range (alerts), with the first
   machine selected, runs it `--repeat` times as the read-only role Grafana uses and prints the median and the
   slowest run against the target.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta

from grafana.generator import macros
from powercast.db.connection import connect
from powercast.db.migrate import migrate
from powercast.monitoring.alerts_role import grafana_url, set_grafana_password
from powercast.monitoring.quality import score_matured
from powercast.simulator.fleet import build_fleet
from tests.grafana import fleet
from tests.grafana.conftest import alerting, dashboards, panels
from tests.grafana.run import relative_time, run

TARGET_S = 0.5
PASSWORD = "benchmark"


def fill(url: str, days: float, machines: int) -> datetime:
    end = fleet.minute_floor(datetime.now(UTC))
    start = fleet.hour_floor(end - timedelta(days=days))
    fleet_machines = build_fleet(machines, seed=42)
    conn = connect(url)
    started, done = time.perf_counter(), [0]

    def progress(block) -> None:
        done[0] += block.readings
        if int(block.steps[0]) % (86_400 // block.interval_s) < len(block.steps):  # once a simulated day
            print(f"  {done[0]:>12,} readings  {time.perf_counter() - started:7.1f} s", flush=True)

    filled = fleet.fill_readings(conn, fleet_machines, start, end, features=True, progress=progress)
    print(f"readings: {filled.readings:,}, features_1m: {filled.features:,} ({time.perf_counter() - started:.0f} s)")
    forecasts = fleet.fill_forecasts(conn, fleet_machines, start, filled.power_minutes)
    scored = score_matured(conn, end).rows
    fleet.fill_history(conn, start, end, dead_letters=2000)
    print(f"forecasts: {forecasts:,}, scored steps: {scored:,} ({time.perf_counter() - started:.0f} s)")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
        cur.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cur.fetchone()[0]
    conn.close()
    print(f"vacuum analyze done ({time.perf_counter() - started:.0f} s); database size {size}")
    return end


def cases(now: datetime):
    """(label, sql, time_from, time_to, interval, variables, multi) of every query in the provisioned files."""
    out = []
    for name, board in dashboards().items():
        time_from, time_to = relative_time(board["time"]["from"], now), relative_time(board["time"]["to"], now)
        variables, multi = {}, set()
        for v in board.get("templating", {}).get("list", []):
            if v["type"] == "query":
                variables[v["name"]] = ["M-001"] if v.get("multi") else "M-001"
                multi |= {v["name"]} if v.get("multi") else set()
            else:
                variables[v["name"]] = v["current"]["value"]
        for panel in panels(board):
            interval = macros.nice_interval(time_to - time_from, minimum=panel.get("interval"))
            for target in panel["targets"]:
                label = f"{name.removesuffix('.json')}: {panel['title']} [{target['refId']}]"
                out.append((label, target["rawSql"], time_from, time_to, interval, variables, multi))
    for rule in alerting()["groups"][0]["rules"]:
        data = rule["data"][0]
        time_from = now - timedelta(seconds=data["relativeTimeRange"]["from"])
        out.append(
            (f"alert: {rule['title']}", data["model"]["rawSql"], time_from, now, timedelta(seconds=1), {}, set())
        )
    return out


def time_queries(reader_url: str, now: datetime, repeat: int) -> list[tuple[str, float, float, int]]:
    conn = connect(reader_url)
    results = []
    try:
        for label, sql, time_from, time_to, interval, variables, multi in cases(now):
            seconds = []
            for _ in range(repeat):
                started = time.perf_counter()
                result = run(conn, sql, time_from, time_to, interval=interval, variables=variables, multi=multi)
                seconds.append(time.perf_counter() - started)
            results.append((label, statistics.median(seconds), max(seconds), len(result.rows)))
    finally:
        conn.close()
    return results


def report(results, days: float, machines: int) -> None:
    print(f"\n{days:g} days x {machines} machines; each query as the read-only role, median and slowest run")
    print(f"{'query':<96} {'rows':>6} {'median':>9} {'slowest':>9}  target {TARGET_S * 1000:.0f} ms")
    for label, median, slowest, rows in results:
        verdict = "ok" if slowest < TARGET_S else "SLOW"
        print(f"{label[:96]:<96} {rows:>6} {median * 1000:>7.1f}ms {slowest * 1000:>7.1f}ms  {verdict}")
    slow = [r for r in results if r[2] >= TARGET_S]
    print(f"\n{len(results) - len(slow)} of {len(results)} queries under {TARGET_S * 1000:.0f} ms (slowest run)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=7)
    parser.add_argument("--machines", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", help="an empty PostgreSQL database instead of a temporary embedded one")
    args = parser.parse_args()
    if args.database_url:
        bench(args.database_url, args)
        return
    from benchmarks.scratch import scratch_postgres

    with scratch_postgres("powercast-grafana-bench-") as url:
        bench(url, args)


def bench(url: str, args) -> None:
    migrate(url)
    end = fill(url, args.days, args.machines)
    set_grafana_password(url, PASSWORD)
    report(time_queries(grafana_url(url, PASSWORD), end + timedelta(seconds=5), args.repeat), args.days, args.machines)


if __name__ == "__main__":
    main()
