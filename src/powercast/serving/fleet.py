"""Every minute: forecast every active machine from its recent readings and store it in `forecasts`."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

import pandas as pd

from powercast.db.connection import connect
from powercast.scoring.minute_cache import MinuteCache
from powercast.scoring.readings import active_machines, recent_readings
from powercast.serving.champion import ChampionHolder, NoModel
from powercast.serving.forecasts import write_forecasts

log = logging.getLogger(__name__)
ACTIVE_WITHIN_MIN = 10  # a machine with a power reading in the last 10 minutes is active


@dataclass(frozen=True)
class FleetRun:
    issue_ts: pd.Timestamp
    model_version: str | None
    machines: int
    forecast_rows: int
    skipped: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None
    stages: dict[str, float] = field(default_factory=dict)  # seconds of each stage: read, score, write
    # read: the readings (with a cache, also their minute statistics); score: minute frame (without one), predict


def score_fleet(conn, holder: ChampionHolder, issue_ts: pd.Timestamp, cache: MinuteCache | None = None) -> FleetRun:
    """One round: readings before `issue_ts` -> champion -> rows in `forecasts`. Short machines are skipped.

    With a `cache` (the scheduler's), the round reads only the readings that are new since the cache's last round
    and scores the minute frame it keeps; the forecasts are the same as without it."""
    started = time.perf_counter()
    issue_ts = issue_ts.floor("min")
    try:
        loaded = holder.current
    except NoModel as exc:
        return FleetRun(issue_ts, None, 0, 0, error=str(exc))
    machines = active_machines(conn, issue_ts - pd.Timedelta(minutes=ACTIVE_WITHIN_MIN), issue_ts)
    if not machines:
        return FleetRun(issue_ts, loaded.version, 0, 0, seconds=time.perf_counter() - started)
    since = issue_ts - pd.Timedelta(minutes=loaded.model.min_history + 2)
    began = time.perf_counter()
    if cache is None:
        readings = recent_readings(conn, since, issue_ts, machines)
        read = time.perf_counter()
        result = loaded.model.score(readings, skip_insufficient=True)
    else:
        frame = cache.minute_frame(conn, since, issue_ts, machines, loaded.model.machines)
        read = time.perf_counter()
        if frame is None:
            return FleetRun(issue_ts, loaded.version, 0, 0, seconds=time.perf_counter() - started)
        result = loaded.model.score_minutes(frame, skip_insufficient=True)
    scored = time.perf_counter()
    written = write_forecasts(conn, result.forecast, loaded.name, loaded.version)
    stages = {"read": read - began, "score": scored - read, "write": time.perf_counter() - scored}
    if result.skipped:
        log.info("skipped %d machine(s) short of history: %s", len(result.skipped), ", ".join(result.skipped))
    return FleetRun(
        issue_ts,
        loaded.version,
        len(machines) - len(result.skipped),
        written,
        result.skipped,
        time.perf_counter() - started,
        stages=stages,
    )


class FleetScheduler:
    """Runs `score_fleet` at every minute boundary (plus `offset_s`) in a daemon thread, with one `MinuteCache`
    kept across its rounds."""

    def __init__(self, database_url: str, holder: ChampionHolder, offset_s: float = 2.0):
        self.database_url = database_url
        self.holder = holder
        self.offset_s = offset_s
        self.cache = MinuteCache()
        self.last: FleetRun | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self, issue_ts: pd.Timestamp | None = None) -> FleetRun:
        issue_ts = issue_ts or pd.Timestamp.now(tz="UTC")
        conn = connect(self.database_url)
        try:
            self.last = score_fleet(conn, self.holder, issue_ts, self.cache)
        except Exception as exc:  # one bad round must not stop the loop
            log.exception("fleet forecast failed")
            conn.rollback()
            self.cache.clear()  # the next round reads everything again
            self.last = FleetRun(issue_ts.floor("min"), None, 0, 0, error=str(exc)[:300])
        finally:
            conn.close()
        return self.last

    def _sleep_to_next_minute(self) -> bool:
        now = time.time()
        wait = 60 - (now % 60) + self.offset_s
        return not self._stop.wait(wait)

    def start(self) -> None:
        def loop() -> None:
            while self._sleep_to_next_minute():
                run = self.run_once()
                log.info(
                    "fleet forecast %s: %d machines, %d rows, model %s, %.2f s%s%s",
                    run.issue_ts,
                    run.machines,
                    run.forecast_rows,
                    run.model_version,
                    run.seconds,
                    "".join(f", {name} {seconds:.2f} s" for name, seconds in run.stages.items()),
                    f" ({run.error})" if run.error else "",
                )

        self._thread = threading.Thread(target=loop, name="fleet-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
