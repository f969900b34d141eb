"""scripts/cross_validation_ph2.sh: the README's 5-fold PH2 loop, end to end, on synthetic data."""
import importlib.util
import json
import os
import subprocess
import sys

import pytest

SCRIPT = "scripts/cross_validation_ph2.sh"


@pytest.mark.slow
def test_five_fold_ph2_loop_runs_and_pools_every_case(repo_root, tmp_path):
    # The smallest input the network takes; the loop's cost is in its ten process
    # starts and each fold's model build, not in the images.
    env = dict(os.environ, CV_WORK=str(tmp_path), CV_SIZE="32")
    # Ten short-lived processes: PyTorch's eager engine starts fastest (no graph to trace).
    if importlib.util.find_spec("torch") is not None:
        env["KERAS_BACKEND"] = "torch"
    done = subprocess.run(["bash", SCRIPT, sys.executable], cwd=repo_root, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    for fold in range(5):
        config = json.loads((tmp_path / "output" / f"ph2_fold{fold}" / "config.json").read_text())
        assert (config["fold"], config["folds"]) == (fold, 5)
    stats = json.loads((tmp_path / "output" / "comparison" / "stats.json").read_text())
    assert stats["folds"] and len(stats["rows"]) == 1
    table = (tmp_path / "output" / "comparison" / "table.md").read_text()
    assert "(5 folds) | 20 |" in table  # every one of the 20 cases tested once
