#!/usr/bin/env bash
# The paper's recipe timed on the lent GPU machine (JAX, no TensorFlow): prepare,
# train, resume, evaluate; every figure printed and written under $OUT.
# Fetch the wheels here first (cp312, see README "Performance"), carry .whl, then run:
#   bash benchmarks/gpu_train.sh              # about 9 minutes on an H100/H200
#   bash benchmarks/gpu_train.sh --smoke      # tiny, on a CPU: proves the script
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
export KERAS_BACKEND=${KERAS_BACKEND:-jax} PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false
if ! "$PYTHON" -c "import keras" 2>/dev/null; then
  "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
# This checkout's package first (an installed copy elsewhere must not answer).
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
export GPU_NAME=${GPU_NAME:-$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 || true)}
"$PYTHON" benchmarks/gpu_train.py --out "${OUT:-gpu_train_out}" "$@"
