#!/usr/bin/env bash
# Creates or refreshes .venv with the locked dependencies (constraints.txt) and powercast itself.
# Safe to re-run: it does nothing when pyproject.toml and constraints.txt have not changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    echo "error: powercast needs Python 3.11 (found $("$PYTHON" --version 2>&1)); set PYTHON=/path/to/python3.11" >&2
    exit 1
fi

UV_VERSION=0.13.8
stamp=.venv/.powercast-installed
want=$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)

# Too little disk is found before a download starts: a first install takes about 7 GB in .venv plus uv's cache;
# a refresh of an existing .venv much less. POWERCAST_MIN_FREE_GB overrides the figure.
if ! { [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; }; then
    if [ -f "$stamp" ]; then need_gb=${POWERCAST_MIN_FREE_GB:-2}; else need_gb=${POWERCAST_MIN_FREE_GB:-10}; fi
    free_kb=$(df -Pk . | awk 'NR == 2 {print $4}')
    if [ "$free_kb" -lt $((need_gb * 1024 * 1024)) ]; then
        echo "error: installing powercast's dependencies needs about ${need_gb} GB free in $PWD;" \
            "only $((free_kb / 1024 / 1024)) GB is. Free some space (or set POWERCAST_MIN_FREE_GB to try anyway)." >&2
        exit 1
    fi
fi

# The browser tests (tests/ui) drive Debian's headless Chromium through its chromedriver.
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing chromium and chromium-driver for the browser tests ..." >&2
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
    else
        echo "note: chromium/chromedriver not found; the browser tests (tests/ui) will be skipped." \
            "Install them with: sudo apt-get install chromium chromium-driver" >&2
    fi
fi

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    exit 0
fi

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
echo "installing locked dependencies into .venv (first run downloads about 3 GB) ..." >&2
VIRTUAL_ENV="$PWD/.venv" .venv/bin/uv pip install --quiet -c constraints.txt -e ".[dev]"
echo "$want" > "$stamp"
