"""How long the DAG processor takes to parse dags/ (it does so every few seconds; target under 2 s), next to
the bare import of Airflow's SDK that every parse pays anyway, measured side by side in fresh processes.

    python -m benchmarks.airflow_parse [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROBE = """
import json, sys, time
sys.path.insert(0, {plugins!r})
t0 = time.perf_counter()
import airflow.sdk
t1 = time.perf_counter()
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder={dags!r}) if {parse} else None
t2 = time.perf_counter()
print(json.dumps({{"sdk_s": t1 - t0, "parse_s": t2 - t1, "dags": len(bag.dag_ids) if bag else 0,
                  "errors": len(bag.import_errors) if bag else 0}}))
"""


def run(parse: bool) -> dict:
    env = {
        **os.environ,
        "AIRFLOW_HOME": tempfile.mkdtemp(prefix="airflow-parse-"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    code = PROBE.format(plugins=str(REPO / "plugins"), dags=str(REPO / "dags"), parse=parse)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    runs = [run(True) for _ in range(args.repeat)]
    parse = statistics.median(r["parse_s"] for r in runs)
    sdk = statistics.median(r["sdk_s"] for r in runs)
    print(f"{runs[0]['dags']} DAGs, {runs[0]['errors']} import errors, {args.repeat} fresh processes")
    print(f"airflow.sdk import   median {sdk:.3f} s")
    print(f"parse of dags/       median {parse:.3f} s   target < 2 s   {'met' if parse < 2 else 'NOT met'}")
    print(f"parse / sdk import   {parse / sdk:.2f}")


if __name__ == "__main__":
    main()
