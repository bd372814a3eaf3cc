"""A day of a 1,000-machine plant in PostgreSQL: the control center's reads at that size.

    python -m benchmarks.plant_scale [--machines 1000] [--hours 24] [--database-url URL] [--runs 5] [--rounds 5]

Starts a scratch embedded PostgreSQL (or uses a migrated `--database-url` whose `readings` is empty for the range),
registers the machines, creates the daily partitions of `readings` ahead (`readings_create_partitions`, as the
runtime does), and writes every sensor's 10-second readings for the last `--hours` with the server's own
`generate_series` (about 34.6 million rows for the defaults), plus the last hour of minute forecasts. Then, as the
control center runs them (the real functions of `dash_app.data`), it times, `--runs` times each:
  - one machine's last 6 hours (`load_machine`, the Machine page: raw readings, forecasts, versions),
  - the Fleet page's queries (latest reading of every machine and sensor, the first page's forecasts and its last
    30 minutes of power for the sparklines), together and each,
and prints the median and slowest of each against the 50 ms target (and the whole Fleet refresh, `fleet_view`,
with its states and sparkline SVGs drawn in Python, for reference), with the table's size on disk and the write
rate of the fill. Last, the forecasting service's per-minute round over the plant (`powercast.serving.fleet.
score_fleet`, an XGBoost model fitted on simulated history) with the minute cache, `--rounds` times after each
next minute's readings are written, against the 2 s target, then once without the cache, and the cache's memory.
"""

from __future__ import annotations

import argparse
import statistics
import time

import pandas as pd
from tqdm import tqdm

from powercast.db.connection import connect
from powercast.db.migrate import migrate

TYPES = ("cnc_mill", "hydraulic_press", "air_compressor", "injection_molder")
SENSORS_SQL = """(VALUES ('power', 'W', 20000.0), ('temperature', '°C', 40.0), ('vibration', 'm/s²', 2.0),
                          ('pressure', 'bar', 50.0)) AS s(sensor, unit, level)"""


def insert_readings(cur, lo: pd.Timestamp, hi: pd.Timestamp) -> int:
    """Every P- machine's four sensors every 10 s in [lo, hi), written by the server; returns the row count."""
    cur.execute(
        f"""INSERT INTO readings (machine_id, sensor, ts, value, unit, event_id)
            SELECT m.machine_id, s.sensor, t, s.level * (0.8 + 0.4 * random()), s.unit, gen_random_uuid()
            FROM machines m CROSS JOIN {SENSORS_SQL}
            CROSS JOIN generate_series(%s::timestamptz, %s::timestamptz - interval '10 seconds',
                                       interval '10 seconds') AS t
            WHERE m.machine_id LIKE 'P-%%'""",  # noqa: S608 - a constant VALUES list
        (lo, hi),
    )
    return cur.rowcount


def fill(conn, machines: int, hours: int, end: pd.Timestamp) -> float:
    """Readings of the last `hours` before `end` for `machines`; returns rows per second of the fill."""
    start = end - pd.Timedelta(hours=hours)
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO machines (machine_id, machine_type, rated_power_w) "
            "SELECT format('P-%%s', lpad(i::text, 4, '0')), (%s::text[])[1 + i %% 4], 30000 "
            "FROM generate_series(1, %s) AS i ON CONFLICT DO NOTHING",
            (list(TYPES), machines),
        )
        cur.execute("SELECT readings_create_partitions(%s::date, %s::date)", (start.date(), end.date()))
    conn.commit()
    rows = 0
    began = time.perf_counter()
    for hour in tqdm(range(hours), desc="readings", unit="h"):
        lo = start + pd.Timedelta(hours=hour)
        with conn.cursor() as cur:
            rows += insert_readings(cur, lo, lo + pd.Timedelta(hours=1))
        conn.commit()
    rate = rows / (time.perf_counter() - began)
    with conn.cursor() as cur:
        cur.execute(
            """INSERT INTO forecasts (machine_id, issue_ts, step, ts, yhat, yhat_lo, yhat_hi, model_name,
                                      model_version)
               SELECT m.machine_id, i, st, i + st * interval '1 minute', 20000, 18000, 22000, 'xgb', '1'
               FROM machines m CROSS JOIN generate_series(%s::timestamptz, %s::timestamptz, interval '1 minute') i
               CROSS JOIN generate_series(1, 15) st WHERE m.machine_id LIKE 'P-%%'
               ON CONFLICT DO NOTHING""",
            (end - pd.Timedelta(hours=1), end - pd.Timedelta(minutes=1)),
        )
    conn.commit()
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("VACUUM ANALYZE readings")
        cur.execute("VACUUM ANALYZE forecasts")
    conn.autocommit = False
    print(f"filled {rows:,} readings in {rows / rate:.0f} s ({rate:,.0f} rows/s)")
    return rate


def timed(fn, runs: int) -> tuple[float, float]:
    seconds = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - began)
    return statistics.median(seconds) * 1000, max(seconds) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--machines", type=int, default=1000)
    parser.add_argument("--hours", type=int, default=24)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--rounds", type=int, default=5, help="forecast rounds with the minute cache after the reads (0 skips them)"
    )
    parser.add_argument("--database-url", help="a migrated powercast database (default: a scratch embedded server)")
    args = parser.parse_args()
    if args.database_url:
        bench(args.database_url, args)
        return
    from benchmarks.scratch import scratch_postgres

    with scratch_postgres("powercast-plant-") as url:  # about 7 GB for the defaults, removed at the end
        bench(url, args)


def bench(url: str, args) -> None:
    from dash_app.data.fleet import PAGE_SIZE, fleet_view, load_forecasts, load_latest, load_recent_power
    from dash_app.data.machine import load_machine

    migrate(url)
    conn = connect(url)
    end = pd.Timestamp.now(tz="UTC").floor("min")
    fill(conn, args.machines, args.hours, end)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*), pg_size_pretty(pg_total_relation_size('readings')) FROM readings")
        count, _ = cur.fetchone()
        cur.execute(
            "SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'readings'::regclass"
        )
        size = cur.fetchone()[0]
    conn.rollback()
    print(f"readings: {count:,} rows, {size} on disk (partitions and their indexes)")
    now = end.to_pydatetime()
    machine = f"P-{args.machines // 2:04d}"
    page = sorted(f"P-{i:04d}" for i in range(1, args.machines + 1))[:PAGE_SIZE]

    def fleet_queries():
        load_latest(conn)
        load_forecasts(conn, page)
        load_recent_power(conn, page, now)

    results = {
        "one machine's last 6 hours (Machine page, load_machine)": timed(
            lambda: load_machine(conn, machine, now, hours=6), args.runs
        ),
        "the Fleet page's queries (latest, forecasts, sparklines)": timed(fleet_queries, args.runs),
        "  latest reading of every machine and sensor": timed(lambda: load_latest(conn), args.runs),
        f"  the page's forecasts ({len(page)} machines)": timed(lambda: load_forecasts(conn, page), args.runs),
        "  the page's last 30 minutes of power": timed(lambda: load_recent_power(conn, page, now), args.runs),
    }
    median, slowest = timed(lambda: fleet_view(conn, now), args.runs)
    print(
        f"{'the whole Fleet refresh (fleet_view: queries, states, SVGs)':60s} median {median:7.1f} ms   "
        f"slowest {slowest:7.1f} ms"
    )
    for name, (median, slowest) in results.items():
        verdict = "met" if slowest < 50 else "missed"
        print(f"{name:60s} median {median:7.1f} ms   slowest {slowest:7.1f} ms   (target < 50 ms: {verdict})")
    if args.rounds:
        fleet_rounds(conn, end, args.rounds)
    conn.close()


def fleet_rounds(conn, end: pd.Timestamp, rounds: int) -> None:
    """The forecasting service's per-minute round over the whole plant with the minute cache: a first round that
    reads the window, then `rounds` more, each after the next minute's readings were written; then one round
    without the cache. Prints each round's time and the cache's memory."""
    from benchmarks.serving import print_rounds, trained_model
    from powercast.scoring.minute_cache import MinuteCache
    from powercast.serving.champion import ChampionHolder
    from powercast.serving.fleet import score_fleet

    model = trained_model("xgb", 3.0)
    holder = ChampionHolder(lambda: "1", lambda version: model)
    holder.refresh()
    # The minutes arrive seconds apart here, not a minute apart: 1 s of settle margin reads again what a live round
    # reads again (the minute before), where the service's 60 s would read every minute written in the last 60 s.
    cache = MinuteCache(settle=pd.Timedelta(seconds=1))
    first = score_fleet(conn, holder, end, cache)
    print(f"\nforecast round over {first.machines} machines, {first.forecast_rows} rows upserted")
    print(f"  the cache's first round (reads the whole window)   {first.seconds:6.2f} s")
    cached = []
    for minute in range(1, rounds + 1):
        with conn.cursor() as cur:
            insert_readings(cur, end + pd.Timedelta(minutes=minute - 1), end + pd.Timedelta(minutes=minute))
        conn.commit()
        cached.append(score_fleet(conn, holder, end + pd.Timedelta(minutes=minute), cache))
    print_rounds(f"with the minute cache, the next {rounds} minutes", cached)
    slowest = max(r.seconds for r in cached)
    print(f"  slowest of them {slowest:6.2f} s   (target < 2 s: {'met' if slowest < 2 else 'missed'})")
    whole = score_fleet(conn, holder, end + pd.Timedelta(minutes=rounds))
    print(f"  without the cache (the whole window read)          {whole.seconds:6.2f} s")
    print(f"  the cache holds {cache.nbytes / 2**20:,.1f} MiB of minute statistics")


if __name__ == "__main__":
    main()
