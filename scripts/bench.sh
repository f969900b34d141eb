#!/usr/bin/env bash
# Every benchmark in benchmarks/, each printing its ratio against a baseline measured
# in the same run. Usage: bash scripts/bench.sh [PYTHON]   (make bench passes the venv's)
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${1:-python3}
status=0
for bench in bench_prepare bench_metrics bench_model bench_train bench_train_memory bench_backends; do
  echo "== benchmarks/$bench.py"
  $PY "benchmarks/$bench.py" || status=1
done
exit $status
