#!/usr/bin/env bash
# Set up the environment from nothing and run every quality gate: ruff, mypy, the whole test
# suite (unit tests with sockets blocked; integration tests against a real `chroma run` server
# on 127.0.0.1), and every example, offline. This is the README's test command; CI runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[all,dev]" -e ./benchmarks
export ANONYMIZED_TELEMETRY=False ORT_DISABLE_TELEMETRY=1 MEM0_TELEMETRY=False HF_HUB_OFFLINE=1

echo "== ruff"; .venv/bin/ruff check . && .venv/bin/ruff format --check shared_core langchain_memo llamaindex_memo benchmarks/memo_bench tests examples
echo "== mypy"; .venv/bin/mypy shared_core benchmarks/memo_bench langchain_memo llamaindex_memo
echo "== examples (offline)"; bash scripts/run_examples.sh
echo "== browser (Debian chromium + chromedriver for the inspector tests)"; bash scripts/install_browser.sh
echo "== nginx (TLS + token proxy in front of chroma run, tests/integration/test_server_tls.py)"; bash scripts/install_nginx.sh
echo "== tests"
.venv/bin/python -m pytest -p no:cacheprovider -q --disable-socket --allow-unix-socket \
  --allow-hosts=127.0.0.1,localhost "$@"
