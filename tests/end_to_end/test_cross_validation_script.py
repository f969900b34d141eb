"""scripts/cross_validation_ph2.sh: the README's 5-fold PH2 loop, end to end, on synthetic data."""
import importlib.util
import json
import os
import resource
import subprocess
import sys
import time

import pytest

SCRIPT = "scripts/cross_validation_ph2.sh"


@pytest.mark.slow
def test_five_fold_ph2_loop_runs_and_pools_every_case(repo_root, tmp_path):
    env = dict(os.environ, CV_WORK=str(tmp_path))
    # Ten short-lived processes: PyTorch's eager engine starts fastest (no graph to trace).
    if importlib.util.find_spec("torch") is not None:
        env["KERAS_BACKEND"] = "torch"
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(["bash", SCRIPT, sys.executable], cwd=repo_root, env=env,
                          capture_output=True, text=True, timeout=900)
    elapsed = time.perf_counter() - start
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_seconds = cpu.ru_utime + cpu.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime
    assert done.returncode == 0, done.stderr[-3000:]
    for fold in range(5):
        config = json.loads((tmp_path / "output" / f"ph2_fold{fold}" / "config.json").read_text())
        assert (config["fold"], config["folds"]) == (fold, 5)
    stats = json.loads((tmp_path / "output" / "comparison" / "stats.json").read_text())
    assert stats["folds"] and len(stats["rows"]) == 1
    table = (tmp_path / "output" / "comparison" / "table.md").read_text()
    assert "(5 folds) | 20 |" in table  # every one of the 20 cases tested once
    assert elapsed <= 90, (f"the 5-fold loop took {elapsed:.0f} s ({cpu_seconds:.0f} s of CPU; "
                           f"load average {os.getloadavg()[0]:.1f}): at most 90 s on 2 cores")
