"""CLI start-up benchmark: how long `powercast --help` (and `powercast status`) take, from a fresh interpreter.

Each command runs `--runs` times, interleaved with two references measured in the same loop, so a busy machine
slows all of them alike: a bare interpreter (`python -c pass`, the floor) and the imports the CLI used to pull in
at start-up (pandas, SciPy's signal module, pydantic-settings, Rich's help renderer). Prints the median wall time
and CPU time (user + system) of each, and each one's ratio to the bare interpreter. `status` probes the services
over the network, so its wall time also holds the probes' timeouts when parts of the stack are down; its CPU time
is the start-up cost. Target: `--help` and `status` under 0.5 s on an idle machine.

    python -m benchmarks.cli_startup [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OLD_IMPORTS = "import pandas, scipy.signal, pydantic_settings, typer, typer.rich_utils"

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "old start-up imports": [sys.executable, "-c", OLD_IMPORTS],
    "powercast --help": [sys.executable, "-m", "powercast", "--help"],
    "powercast status": [sys.executable, "-m", "powercast", "status"],
}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of `command` (its exit code does not matter: status exits 1 when down)."""
    cpu, start = _children_cpu(), time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start, _children_cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="Runs of each command (medians are printed).")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in COMMANDS}
    for _ in range(args.runs):
        for name, command in COMMANDS.items():
            times[name].append(run_once(command, env))
    floor_wall = statistics.median(w for w, _ in times["python -c pass"])
    print(f"{'command':<22} {'wall s':>7} {'cpu s':>7} {'wall / bare python':>19}  (median of {args.runs})")
    for name, runs in times.items():
        wall, cpu = statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)
        print(f"{name:<22} {wall:>7.3f} {cpu:>7.3f} {wall / floor_wall:>19.1f}")
    help_wall = statistics.median(w for w, _ in times["powercast --help"])
    old_wall = statistics.median(w for w, _ in times["old start-up imports"])
    print(f"--help takes {help_wall / old_wall:.2f} x the time of the imports the CLI used to make at start-up")


if __name__ == "__main__":
    main()
