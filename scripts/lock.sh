#!/usr/bin/env bash
# Re-resolves requirements.in into constraints.txt. Run after changing a pin, then commit both files.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/uv pip compile --quiet --python-version 3.11 --no-header requirements.in -o constraints.txt
