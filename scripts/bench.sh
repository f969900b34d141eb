#!/usr/bin/env bash
# Every benchmark in benchmarks/, each measuring ours against a baseline in the same run,
# then one line per claim: the claim, the measured ratio, PASS or FAIL. Fails when a
# claim fails. Usage: bash scripts/bench.sh [PYTHON]   (make bench passes the venv's)
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${1:-python3}
status=0
log=$(mktemp)
# Each with the settings its README claim was measured at.
for bench in bench_prepare bench_metrics bench_model bench_train "bench_train_memory --scale 1" \
             bench_backends bench_bn_variance bench_saving bench_digest bench_precise_bn \
             bench_export bench_report; do
  set -- $bench
  echo "== benchmarks/$1.py ${*:2}"
  $PY "benchmarks/$1.py" "${@:2}" | tee -a "$log" || status=1
done
echo
echo "== claims"
grep '^CLAIM ' "$log" | sed 's/^CLAIM //'
rm -f "$log"
exit $status
