"""`python -m grafana.generator [--check]`: write (or compare) everything under grafana/provisioning/."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grafana.generator.render import render_all

ROOT = Path(__file__).resolve().parents[1] / "provisioning"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="Exit 1 when a committed file differs from the output.")
    args = parser.parse_args()
    stale = []
    for relative, text in render_all().items():
        path = ROOT / relative
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(relative)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote grafana/provisioning/{relative}")
    if stale:
        print("out of date (run `python -m grafana.generator`): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
