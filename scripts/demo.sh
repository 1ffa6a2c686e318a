#!/usr/bin/env bash
# Set up the environment from nothing and run the main demo (`memo demo`).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[all]"
ANONYMIZED_TELEMETRY=False ORT_DISABLE_TELEMETRY=1 .venv/bin/memo demo
