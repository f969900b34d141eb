"""scripts/summarize_evaluation.py: the figures the README quotes from an evaluation folder."""
import json

import pytest

from scripts import summarize_evaluation

HEADER = "id,tp,fp,fn,tn,dice,jaccard,accuracy,sensitivity,specificity\n"


@pytest.fixture
def folder(tmp_path):
    # Dice = 2tp / (2tp + fp + fn): 0.9, 0.4 (too large: 2 + 8 predicted for 2), 0.7, 0.2
    rows = ["a,9,1,1,89,0.9,0,0,0.9,0", "b,2,6,0,92,0.4,0,0,1.0,0",
            "c,7,3,3,87,0.7,0,0,0.7,0", "d,1,0,8,91,0.2,0,0,0.111,0"]
    (tmp_path / "per_image.csv").write_text(HEADER + "\n".join(rows) + "\n")
    pooled = {name: 0.5 for name in summarize_evaluation.POOLED}
    (tmp_path / "metrics.json").write_text(json.dumps(
        {"threshold": 0.43, "tta": True, "pooled": dict(pooled, f1=0.6543)}))
    return tmp_path


def test_spread_counts_and_worst_images(folder):
    lines = summarize_evaluation.summarize(folder, worst=2, below=(0.5, 0.8))
    assert lines[0].endswith("4 images, threshold 0.43, tta True")
    assert "f1 0.6543" in lines[1]
    assert "median 0.5500" in lines[2] and "min 0.2000, max 0.9000" in lines[2]
    assert lines[2].endswith("2 below 0.5, 3 below 0.8")
    assert lines[3].startswith("  worst: d Dice 0.2000") and lines[3].endswith("area 0.11")
    assert lines[4].startswith("  worst: b Dice 0.4000") and lines[4].endswith("area 4.00")
    assert len(lines) == 5


def test_output_names_its_command(folder, capsys):
    assert summarize_evaluation.main([str(folder), "--worst", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"$ python scripts/summarize_evaluation.py {folder} --worst 1"
    assert len(out) == 5  # the command, 3 lines, 1 worst image
