"""scripts/cross_validation_ph2.py: the README's 5-fold PH2 loop, end to end, on synthetic data."""
import importlib.util
import json

import pytest

from tests.support.processes import run_python

# In one process the loop's cost is each fold's model: PyTorch runs it eagerly, where
# TensorFlow traces the network again for every fold (minutes on 2 cores).
BACKEND = next((name for name in ("torch", "jax") if importlib.util.find_spec(name)), None)


@pytest.mark.slow
@pytest.mark.skipif(BACKEND is None, reason="needs PyTorch or JAX (make test-backends installs "
                    "them): on TensorFlow each fold traces the network again")
def test_five_fold_ph2_loop_runs_and_pools_every_case(tmp_path):
    # The smallest input the network takes: the loop, not the images, is tested.
    run_python("scripts/cross_validation_ph2.py", "--work", tmp_path, "--size", 32,
               backend=BACKEND)
    for fold in range(5):
        config = json.loads((tmp_path / "output" / f"ph2_fold{fold}" / "config.json").read_text())
        assert (config["fold"], config["folds"]) == (fold, 5)
    stats = json.loads((tmp_path / "output" / "comparison" / "stats.json").read_text())
    assert stats["folds"] and len(stats["rows"]) == 1
    table = (tmp_path / "output" / "comparison" / "table.md").read_text()
    assert "(5 folds) | 20 |" in table  # every one of the 20 cases tested once
