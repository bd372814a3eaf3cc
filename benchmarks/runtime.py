"""Time of `powercast up` on existing data, and the resident memory of the whole stack with each service's share.

    python -m benchmarks.runtime [--machines 2] [--history-days 3] [--keep]

Uses the data directory and ports of the environment (POWERCAST_*; point POWERCAST_DATA_DIR at a scratch
directory). When nothing runs there yet, a first `up` brings the stack up (its time is printed too, with its
backfill and first training). Then, side by side in one run:
  - `up` while everything runs (nothing to start),
  - `down` (data kept) and `up` again: every process starts, only the gap is backfilled, no training when a
    champion exists: the "second up" of the README,
and the resident memory (RSS) of each service: its process and all its descendants, PostgreSQL's postmaster and
its backends included. `--keep` leaves the stack running at the end (default: `down`).

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


def tree_rss_mb(pid: int) -> float:
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total / 2**20


def postmaster_pid(settings: Settings) -> int | None:
    try:
        return int((settings.resolved_data_dir / "postgres" / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def memory(settings: Settings) -> dict[str, float]:
    shares = {}
    pg = postmaster_pid(settings)
    if pg is not None:
        shares["postgres"] = tree_rss_mb(pg)
    for service in all_services(settings):
        record = service.running()
        if record is not None:
            shares[service.name] = tree_rss_mb(record.pid)
    return shares


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
    total = sum(shares.values())
    print(f"\nresident memory, {total:.0f} MB in all (target under 4096 MB):")
    for name, mb in sorted(shares.items(), key=lambda item: -item[1]):
        print(f"  {name:<11} {mb:7.0f} MB  {100 * mb / total:5.1f} %")
    if not args.keep:
        powercast("down")


if __name__ == "__main__":
    main()
