#!/usr/bin/env bash
# Run every example script offline with fake models; any failure fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
export ANONYMIZED_TELEMETRY=False ORT_DISABLE_TELEMETRY=1 HF_HUB_OFFLINE=1 MEMO_EXAMPLE_OFFLINE=1
shopt -s nullglob
for ex in examples/*.py; do
  echo "-- $ex"
  timeout 600 .venv/bin/python "$ex" > /tmp/memo-example.log 2>&1 || { cat /tmp/memo-example.log; echo "example failed: $ex"; exit 1; }
  tail -n 3 /tmp/memo-example.log
done
