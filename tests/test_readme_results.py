"""The README's PH2 results are the committed run's (benchmarks/results/ph2_full_128px/)."""
import json
import re

import numpy as np
import pytest

from scripts import summarize_evaluation
from tests.support.processes import REPO

RESULTS = REPO / "benchmarks" / "results" / "ph2_full_128px"
COLUMNS = ("f1", "sensitivity", "specificity", "accuracy", "jaccard")
ROWS = {"test": "| this implementation, from scratch", "test_tta": "| the same, `--tta`",
        "test_auto": "| the same, `--threshold auto`"}


def readme():
    return (REPO / "README.md").read_text()


@pytest.mark.parametrize("evaluation", sorted(ROWS))
def test_pooled_scores_are_the_runs(evaluation):
    rows = [line for line in readme().splitlines() if line.startswith(ROWS[evaluation])]
    assert len(rows) == 1, ROWS[evaluation]
    shown = [cell.strip() for cell in rows[0].strip("|").split("|")][1:]
    pooled = json.loads((RESULTS / evaluation / "metrics.json").read_text())
    assert shown == [f"{pooled['pooled'][name]:.4f}" for name in COLUMNS]


def test_per_image_figures_are_the_runs():
    dice = np.array([row["dice"] for row in summarize_evaluation.read_per_image(RESULTS / "test")])
    text = " ".join(readme().split())
    match = re.search(r"median Dice ([\d.]+) \(quartiles ([\d.]+) and ([\d.]+)\); (\d+) of the "
                      r"(\d+) test cases score below 0\.8 and (\d+) below 0\.5", text)
    assert match, "the README's per-image sentence"
    assert match.groups() == (f"{np.median(dice):.4f}", f"{np.percentile(dice, 25):.4f}",
                              f"{np.percentile(dice, 75):.4f}", str((dice < 0.8).sum()),
                              str(len(dice)), str((dice < 0.5).sum()))


def test_summary_is_what_the_script_prints_now(capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    folders = [f"benchmarks/results/ph2_full_128px/{name}" for name in ("test", "test_tta",
                                                                         "test_auto")]
    summarize_evaluation.main(folders)
    assert capsys.readouterr().out == (RESULTS / "summary.txt").read_text()
