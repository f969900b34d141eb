"""On JAX, each batch shape compiles once per run: an epoch with partial batches
(training, precise statistics, validation), run again, compiles nothing new."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CHILD = Path(__file__).with_name("standin_child.py")


@pytest.mark.slow
def test_repeated_epochs_compile_nothing_on_jax(tmp_path, make_data):
    pytest.importorskip("jax")
    data = make_data(tmp_path / "data", train=12, val=7)  # batches 5, 5, 2 and 5, 2
    env = dict(os.environ, KERAS_BACKEND="jax", ATTENTION_DEEPLAB_JAX_CACHE="off",
               TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run([sys.executable, str(CHILD), str(data), str(tmp_path / "run"), "3",
                           "3600", "--count-compilations"], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    compiled = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(compiled["1"]) > 3  # training, statistics and validation steps, twice each
    # Epoch 2 makes the learning-rate schedule's first comparison (epoch 1 has none to make).
    assert compiled.get("2", []) in ([], ["jit(less)"]), compiled.get("2")
    assert compiled.get("3", []) == [], compiled["3"]
