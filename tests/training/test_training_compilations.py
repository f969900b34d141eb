"""On JAX, each batch shape compiles once per run: an epoch with partial batches
(training, precise statistics, validation), run again, compiles nothing new."""
import json
import os

import pytest

from tests.support.processes import run_python


@pytest.mark.slow
def test_repeated_epochs_compile_nothing_on_jax(tmp_path, make_data):
    pytest.importorskip("jax")
    data = make_data(tmp_path / "data", train=12, val=7)  # batches 5, 5, 2 and 5, 2
    os.environ["ATTENTION_DEEPLAB_JAX_CACHE"] = "off"  # counts compilations, not cache reads
    try:
        out = run_python("-m", "tests.training.standin_child", data, tmp_path / "run", 3, 3600,
                         "--count-compilations", backend="jax", timeout=600)
    finally:
        del os.environ["ATTENTION_DEEPLAB_JAX_CACHE"]
    compiled = json.loads(out.strip().splitlines()[-1])
    assert len(compiled["1"]) > 3  # training, statistics and validation steps, twice each
    # Epoch 2 makes the learning-rate schedule's first comparison (epoch 1 has none to make).
    assert compiled.get("2", []) in ([], ["jit(less)"]), compiled.get("2")
    assert compiled.get("3", []) == [], compiled["3"]
