"""Time of `powercast up` on existing data, and the resident memory of the whole stack with each service's share.

    python -m benchmarks.runtime [--machines 2] [--history-days 3] [--keep]

Uses the data directory and ports of the environment (POWERCAST_*; point POWERCAST_DATA_DIR at a scratch
directory). When nothing runs there yet, a first `up` brings the stack up (its time is printed too, with its
backfill and first training). Then, side by side in one run:
  - `up` while everything runs (nothing to start),
  - `down` (data kept) and `up` again: every process starts, only the gap is backfilled, no training when a
    champion exists: the "second up" of the README,
and the memory of each service (PSS and RSS): its process and all its descendants, PostgreSQL's postmaster and
its backends included, each process counted once (the supervisor's share leaves out the services it runs).
`--keep` leaves the stack running at the end (default: `down`).

Target (issue 14): a second `up` under a minute; the whole stack under 4 GB.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil

from powercast.config import Settings
from powercast.stack.system import all_services


def powercast(*args: str) -> float:
    """Run `powercast ARGS`; seconds it took (raises with its output when it fails)."""
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "powercast", *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"powercast {' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return time.perf_counter() - start


def process_tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def memory_mb(procs: list[psutil.Process]) -> tuple[float, float]:
    """(RSS, PSS) of the processes in MB. RSS counts a page shared by several processes (forked workers, shared
    libraries) in each of them; PSS splits it among them, so PSS adds up across processes to what they take."""
    rss = pss = 0
    for proc in procs:
        try:
            info = proc.memory_full_info()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        rss, pss = rss + info.rss, pss + info.pss
    return rss / 2**20, pss / 2**20


def postmaster_pid(settings: Settings) -> int | None:
    try:
        return int((settings.resolved_data_dir / "postgres" / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def memory(settings: Settings) -> dict[str, tuple[float, float]]:
    """(RSS, PSS) per service, each process counted once: the supervisor's share leaves out the services it runs."""
    trees = {}
    pg = postmaster_pid(settings)
    if pg is not None:
        trees["postgres"] = process_tree(pg)
    for service in all_services(settings):
        record = service.running()
        if record is not None:
            trees[service.name] = process_tree(record.pid)
    claimed = {proc.pid for name, procs in trees.items() if name != "supervisor" for proc in procs}
    if "supervisor" in trees:
        trees["supervisor"] = [proc for proc in trees["supervisor"] if proc.pid not in claimed]
    return {name: memory_mb(procs) for name, procs in trees.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--machines", type=int, default=2)
    parser.add_argument("--history-days", default="3")
    parser.add_argument("--keep", action="store_true", help="leave the stack running")
    args = parser.parse_args()
    settings = Settings()
    up = ("up", "--machines", str(args.machines), "--history-days", args.history_days, "--windows", "1")
    print(f"data directory {settings.resolved_data_dir}; {os.cpu_count()} CPUs; load {os.getloadavg()[0]:.1f}")
    fresh = not (Path(settings.resolved_data_dir) / "postgres" / "PG_VERSION").exists()
    if fresh:
        print(f"first up (fresh data, {args.history_days} days of history): {powercast(*up):.1f} s")
    running = powercast(*up)
    print(f"up while everything runs:               {running:.1f} s")
    powercast("down")
    second = powercast(*up)
    print(f"second up after down (data kept):       {second:.1f} s  ({second / running:.1f} x the no-op up)")
    time.sleep(20)  # let the services settle after their start
    shares = memory(settings)
    rss_total, pss_total = (sum(share[i] for share in shares.values()) for i in (0, 1))
    print(f"\nmemory of the whole stack: PSS {pss_total:.0f} MB (target under 4096 MB), RSS {rss_total:.0f} MB")
    print("  (PSS splits shared pages among the processes sharing them, so it adds up; RSS counts them in each)")
    print(f"  {'service':<11} {'PSS MB':>8} {'share':>7} {'RSS MB':>8}")
    for name, (rss, pss) in sorted(shares.items(), key=lambda item: -item[1][1]):
        print(f"  {name:<11} {pss:8.0f} {100 * pss / pss_total:6.1f}% {rss:8.0f}")
    if not args.keep:
        powercast("down")


if __name__ == "__main__":
    main()
