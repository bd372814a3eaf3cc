"""Latency of the forecasting service against the model's bare predict time, measured side by side.

    python -m benchmarks.serving [--model xgb] [--requests 300] [--fleet 100] \
        [--shapes readings columns]

1. Trains the chosen forecaster on simulated history and wraps it exactly as the registry does
   (`powercast.scoring.model.ForecasterModel`).
2. Runs the real service (FastAPI + uvicorn, in a thread on a free loopback port) and sends `--requests`
   sequential `POST /forecast` requests for one machine (its last 70 minutes of 10-second readings, four
   sensors), in each request shape of `--shapes` (`readings`: a list of objects; `columns`: parallel arrays),
   alternating the shapes request by request. The body is JSON-encoded once up front: the client's encoding is
   not the service's latency. Reports p50/p99 over HTTP next to, timed in the same loop: the in-process
   `score` (readings frame -> minute frame -> forecast, the fleet path) and `score_machine` (the same on the
   machine's arrays, what the service runs for a one-machine request), the bare `forecaster.predict` on the
   machine's minute frame and, where the forecaster has it, `predict_machine` on its minute arrays.
3. Scores a fleet of `--fleet` machines the way the per-minute loop does (long readings -> minute frame ->
   predict) and reports the time next to the bare predict of the same fleet.

Targets: p99 < 50 ms for one machine (< 20 ms for the hour of readings); the fleet of 100 machines in < 5 s; the
per-minute round of 1,000 machines against PostgreSQL (`--fleet 1000 --database-url`) in < 2 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time

import numpy as np
import pandas as pd


def long_from_frame(frame: pd.DataFrame) -> pd.DataFrame:
    sensors = [s for s in ("power", "temperature", "vibration", "pressure") if s in frame.columns]
    return frame.melt(id_vars=["machine_id", "ts"], value_vars=sensors, var_name="sensor", value_name="value")


def ten_second_readings(machines: int, minutes: int, seed: int, end: pd.Timestamp) -> pd.DataFrame:
    """Readings of all four sensors every 10 s, with each machine's attributes (as the fleet loop reads them)."""
    from tests.simulated import fleet_attributes, meter_readings

    days = minutes / 1440
    start = (end - pd.Timedelta(minutes=minutes)).isoformat()
    readings = meter_readings(
        days=days,
        n_machines=machines,
        seed=seed,
        every_s=10,
        sensors=("power", "temperature", "vibration", "pressure"),
        start=start,
    )
    return readings.merge(fleet_attributes(machines, seed), on="machine_id", how="left")


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def timed_ms(call, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        call()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def request_bodies(readings: pd.DataFrame, shapes: list[str]) -> dict[str, bytes]:
    """The JSON body of one forecast request in each shape (`readings`: objects, `columns`: parallel arrays)."""
    readings = readings.assign(ts=readings["ts"].map(pd.Timestamp.isoformat))
    documents = {
        "readings": {"readings": readings.to_dict(orient="records")},
        "columns": {"columns": {name: readings[name].tolist() for name in readings.columns}},
    }
    return {shape: json.dumps(documents[shape]).encode() for shape in shapes}


def start_service(model) -> tuple[str, object]:
    import uvicorn

    from powercast.serving.app import create_app
    from powercast.serving.champion import ChampionHolder
    from powercast.stack.process import free_port

    holder = ChampionHolder(lambda: "1", lambda version: model)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(holder, poll_s=None), host="127.0.0.1", port=port, log_level="warning")
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server


def trained_model(name: str, days: float):
    """A `ForecasterModel` of forecaster `name` fitted on `days` of a simulated 10-machine fleet."""
    from powercast.features.spec import FeatureSpec
    from powercast.models.catalog import make_forecaster
    from powercast.scoring.model import ForecasterModel, required_minutes
    from tests.simulated import minute_frame as simulated_frame

    spec = FeatureSpec()
    train = simulated_frame(days=days, n_machines=10, seed=3)
    t0 = time.perf_counter()
    forecaster = make_forecaster(name).fit(train)
    print(f"trained {name} on {len(train)} rows in {time.perf_counter() - t0:.1f} s")
    return ForecasterModel(forecaster, spec.to_dict(), required_minutes(spec), name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="xgb", help="forecaster name for powercast.models.catalog")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--fleet", type=int, default=100)
    parser.add_argument("--train-days", type=float, default=3.0)
    parser.add_argument(
        "--shapes",
        nargs="+",
        choices=["readings", "columns"],
        default=["readings", "columns"],
        help="request shapes to time (readings: a list of objects; columns: parallel arrays)",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="a migrated powercast database: also time the real per-minute round (read recent "
        "readings, score, upsert forecasts); the fleet's readings are inserted there first",
    )
    args = parser.parse_args()

    import httpx

    from powercast.features.machine import machine_minutes
    from powercast.features.spec import FeatureSpec
    from powercast.scoring.model import minute_frame, required_minutes
    from powercast.serving.forecast_request import ForecastRequest, machine_readings

    spec = FeatureSpec()
    model = trained_model(args.model, args.train_days)
    forecaster = model.forecaster
    minutes = required_minutes(spec) + 10
    end = pd.Timestamp.now(tz="UTC").floor("min")

    one = ten_second_readings(1, minutes, seed=11, end=end)
    one_frame = minute_frame(one)
    bodies = request_bodies(one, args.shapes)
    one_arrays = machine_readings(ForecastRequest.model_validate_json(request_bodies(one, ["columns"])["columns"]))
    one_minutes = machine_minutes(one_arrays, *one[["machine_type", "rated_power_w"]].iloc[0])
    url, server = start_service(model)
    latencies: dict[str, list[float]] = {shape: [] for shape in bodies}
    scored, scored_machine, bare_one, bare_machine = [], [], [], []
    with httpx.Client(base_url=url, timeout=30) as client:
        for i in range(args.requests + 20):
            for shape, body in bodies.items():
                t0 = time.perf_counter()
                response = client.post("/forecast", content=body, headers={"content-type": "application/json"})
                elapsed = (time.perf_counter() - t0) * 1000
                response.raise_for_status()
                if i >= 20:  # warm-up
                    latencies[shape].append(elapsed)
            if i >= 20 and i % 4 == 0:  # the same work without HTTP, and the bare model, in the same loop
                scored += timed_ms(lambda: model.score(one), 1)
                scored_machine += timed_ms(lambda: model.score_machine(one_arrays), 1)
                bare_one += timed_ms(lambda: forecaster.predict(one_frame), 1)
                if hasattr(forecaster, "predict_machine"):
                    bare_machine += timed_ms(lambda: forecaster.predict_machine(one_minutes), 1)
    server.should_exit = True
    print(f"\none machine ({len(one)} readings in the request, {args.requests} sequential requests per shape)")
    for shape, values in latencies.items():
        print(
            f"  POST /forecast ({shape:8s}) p50 {percentile(values, 50):7.1f} ms   p99 {percentile(values, 99):7.1f} ms"
            f"   (target p99 < 20 ms)"
        )
    print(f"  score, no HTTP           p50 {percentile(scored, 50):7.1f} ms   p99 {percentile(scored, 99):7.1f} ms")
    print(
        f"  score_machine, no HTTP   p50 {percentile(scored_machine, 50):7.1f} ms"
        f"   p99 {percentile(scored_machine, 99):7.1f} ms"
    )
    print(f"  bare predict             p50 {percentile(bare_one, 50):7.1f} ms   p99 {percentile(bare_one, 99):7.1f} ms")
    if bare_machine:
        print(
            f"  bare predict_machine     p50 {percentile(bare_machine, 50):7.1f} ms"
            f"   p99 {percentile(bare_machine, 99):7.1f} ms"
        )
    for shape, values in latencies.items():
        print(
            f"  ratio HTTP ({shape}) / bare predict: p50 {percentile(values, 50) / percentile(bare_one, 50):.1f}x"
            f"   p99 {percentile(values, 99) / percentile(bare_one, 99):.1f}x"
        )
        if bare_machine:  # the model call a one-machine request makes: the rest is the service's overhead
            print(
                f"  ratio HTTP ({shape}) / bare predict_machine: "
                f"p50 {percentile(values, 50) / percentile(bare_machine, 50):.1f}x"
                f"   p99 {percentile(values, 99) / percentile(bare_machine, 99):.1f}x"
            )

    fleet = ten_second_readings(args.fleet, minutes, seed=12, end=end)
    fleet_frame = minute_frame(fleet)
    rounds = []
    for _ in range(3):
        t0 = time.perf_counter()
        result = model.score(fleet, skip_insufficient=True)
        rounds.append(time.perf_counter() - t0)
    bare_fleet = [ms / 1000 for ms in timed_ms(lambda: forecaster.predict(fleet_frame), 3)]
    print(
        f"\nfleet of {args.fleet} machines ({len(fleet)} readings, {len(result.forecast)} forecast rows, "
        f"{len(result.skipped)} skipped)"
    )
    print(f"  score (readings -> minute frame -> predict)  median {statistics.median(rounds):6.2f} s   (target < 2 s)")
    print(f"  bare predict on the minute frame            median {statistics.median(bare_fleet):6.2f} s")
    print(f"  ratio score / bare predict: {statistics.median(rounds) / statistics.median(bare_fleet):.1f}x")
    if args.database_url:
        database_round(args.database_url, model, fleet, end, statistics.median(bare_fleet))


def database_round(url: str, model, fleet: pd.DataFrame, end: pd.Timestamp, bare_s: float) -> None:
    """The per-minute loop as the service runs it, against a real database: rounds without the minute cache (each
    reads its whole window), then the scheduler's rounds with it, a minute apart, each after that minute's
    readings arrived."""
    from powercast.db.connection import connect
    from powercast.scoring.minute_cache import MinuteCache
    from powercast.serving.champion import ChampionHolder
    from powercast.serving.fleet import score_fleet
    from tests.mlops.data import insert_readings

    fleet = fleet.assign(machine_id="BENCH-" + fleet["machine_id"])
    attributes = fleet.groupby("machine_id")[["machine_type", "rated_power_w"]].first().reset_index()
    history = fleet[fleet["ts"] < end - pd.Timedelta(minutes=CACHED_ROUNDS)]
    minutes = [
        fleet[
            (fleet["ts"] >= end - pd.Timedelta(minutes=CACHED_ROUNDS - i))
            & (fleet["ts"] < end - pd.Timedelta(minutes=CACHED_ROUNDS - i - 1))
        ]
        for i in range(CACHED_ROUNDS)
    ]
    columns = ["machine_id", "sensor", "ts", "value"]
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("DELETE FROM readings WHERE machine_id LIKE 'BENCH-%%'")
        insert_readings(conn, history[columns], attributes)
        holder = ChampionHolder(lambda: "1", lambda version: model)
        holder.refresh()
        # The minutes here arrive seconds apart, not a minute apart: a settle margin of 60 s would read every
        # minute of the last 60 s again each round; 1 s leaves what a live round reads again, the minute before.
        cache = MinuteCache(settle=pd.Timedelta(seconds=1))
        first = score_fleet(conn, holder, end - pd.Timedelta(minutes=CACHED_ROUNDS), cache)
        cached = []
        for i, minute in enumerate(minutes):
            insert_readings(conn, minute[columns])
            cached.append(score_fleet(conn, holder, end - pd.Timedelta(minutes=CACHED_ROUNDS - i - 1), cache))
        last = cache.last_read
        full = [score_fleet(conn, holder, end) for _ in range(3)]
    finally:
        conn.close()
    print_rounds(
        f"per-minute round against PostgreSQL, whole window read ({full[-1].machines} machines, "
        f"{full[-1].forecast_rows} rows upserted; median of {len(full)})",
        full,
    )
    print(f"  ratio round / bare predict: {statistics.median(r.seconds for r in full) / bare_s:.1f}x")
    print(f"\n  the cache's first round (reads the whole window)  {first.seconds:6.2f} s")
    print_rounds(
        f"per-minute round with the minute cache, the next {len(cached)} minutes "
        f"(the last read {last.readings} readings, {last.minutes_reread} minutes read again)",
        cached,
    )
    ratio = statistics.median(r.seconds for r in cached) / statistics.median(r.seconds for r in full)
    print(f"  ratio round with cache / whole window read: {ratio:.2f}")
    print(f"  the cache holds {cache.nbytes / 2**20:,.1f} MiB of minute statistics")


CACHED_ROUNDS = 5


def print_rounds(title: str, runs) -> None:
    print(f"\n{title}")
    seconds = statistics.median(r.seconds for r in runs)
    print(f"  read readings + score + write forecasts     median {seconds:6.2f} s   (target < 2 s)")
    for stage in runs[-1].stages:
        median = statistics.median(r.stages[stage] for r in runs)
        print(f"    {stage:41s} median {median:6.2f} s")
    other = statistics.median(r.seconds - sum(r.stages.values()) for r in runs)
    print(f"    {'active machines, model lookup':41s} median {other:6.2f} s")


if __name__ == "__main__":
    main()
