"""Compare_Runs.py on hand-written evaluation folders: statistics from their definitions,
the refusals, planted and absent differences, the files written."""
import csv
import itertools
import json

import numpy as np
import pytest

import Compare_Runs
from attention_deeplab import metrics
from attention_deeplab.comparison import ComparisonError, compare_runs
from attention_deeplab.comparison.statistics import holm

HEADER = ["id", "tp", "fp", "fn", "tn", "dice", "jaccard", "accuracy", "sensitivity",
          "specificity"]


def write_evaluation(folder, ids, dice, jaccard=None, counts=None, dataset="isic2018",
                     fingerprint="data-a", auc=0.9, as_original=None):
    """An evaluation folder as Evaluate_Skin.py writes it: metrics.json and per_image.csv."""
    folder.mkdir(parents=True, exist_ok=True)
    dice = np.asarray(dice, float)
    jaccard = dice / (2 - dice) if jaccard is None else np.asarray(jaccard, float)
    counts = np.tile([10, 2, 3, 85], (len(ids), 1)) if counts is None else np.asarray(counts)
    with open(folder / "per_image.csv", "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(HEADER)
        for i, image_id in enumerate(ids):
            writer.writerow([image_id, *counts[i], f"{dice[i]:.6f}", f"{jaccard[i]:.6f}",
                             "0.9", "0.8", "nan"])
    pooled = metrics.pooled_scores(counts)
    pooled["auc"] = auc
    report = {"dataset": dataset, "split": "test", "n_images": len(ids),
              "pooled": pooled, "data_fingerprint": fingerprint}
    if as_original is not None:
        report["as_original"] = as_original
    (folder / "metrics.json").write_text(json.dumps(report))
    return folder


def run_folder(root, name, ids, dice, **kwargs):
    """A run folder (config.json) evaluated on the test split."""
    run = root / name
    run.mkdir(parents=True)
    (run / "config.json").write_text("{}")
    write_evaluation(run / "evaluation" / "test", ids, dice, **kwargs)
    return run


IDS = [f"ISIC_{i:07d}" for i in range(8)]
BASE = np.array([0.80, 0.70, 0.90, 0.60, 0.85, 0.75, 0.65, 0.95])
# Distinct absolute differences, none zero: the exact signed-rank distribution applies.
SHIFT = np.array([0.05, -0.01, 0.07, 0.02, -0.03, 0.04, 0.08, -0.005])


def exact_wilcoxon_p(differences):
    """Two-sided p from the definition: the share of the 2^n sign patterns whose
    smaller rank sum is at most the observed one."""
    ranks = np.argsort(np.argsort(np.abs(differences))) + 1
    observed = min(ranks[differences > 0].sum(), ranks[differences < 0].sum())
    hits = 0
    for signs in itertools.product((1, -1), repeat=len(ranks)):
        signs = np.array(signs)
        hits += min(ranks[signs > 0].sum(), ranks[signs < 0].sum()) <= observed
    return hits / 2 ** len(ranks)


def bootstrap_from_definition(differences, n_bootstrap, seed):
    rng = np.random.default_rng(seed)
    means = [differences[rng.integers(0, len(differences), len(differences))].mean()
             for _ in range(n_bootstrap)]
    return np.percentile(means, [2.5, 97.5])


def test_statistics_match_their_definitions(tmp_path):
    first = run_folder(tmp_path, "a", IDS, BASE)
    second = run_folder(tmp_path, "b", IDS, BASE + SHIFT)
    stats = compare_runs([first, second], out=tmp_path / "cmp", n_bootstrap=500, seed=7)
    dice = stats["comparisons"][str(second)]["dice"]
    differences = np.round(BASE + SHIFT, 6) - np.round(BASE, 6)
    assert dice["p_value"] == pytest.approx(exact_wilcoxon_p(differences), abs=1e-12)
    assert dice["p_holm"] == dice["p_value"]  # one comparison: Holm changes nothing
    assert dice["mean_difference"] == pytest.approx(differences.mean(), abs=1e-12)
    assert dice["ci95"] == pytest.approx(bootstrap_from_definition(differences, 500, 7),
                                         abs=1e-12)
    assert (dice["n_images"], dice["n_left_out"]) == (8, 0)
    saved = json.loads((tmp_path / "cmp" / "stats.json").read_text())
    assert saved["n_bootstrap"] == 500 and saved["seed"] == 7
    assert saved["comparisons"][str(second)]["jaccard"]["n_images"] == 8


def test_holm_from_its_definition():
    # Sorted 0.01, 0.03, 0.04 times 3, 2, 1 = 0.03, 0.06, 0.04 -> running max 0.03, 0.06, 0.06.
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])
    np.testing.assert_allclose(holm([0.5, np.nan, 0.2]), [0.5, np.nan, 0.4])
    np.testing.assert_allclose(holm([0.6, 0.9]), [1.0, 1.0])


def test_more_than_two_runs_are_holm_corrected(tmp_path):
    runs = [run_folder(tmp_path, "a", IDS, BASE)]
    for name, shift in (("b", SHIFT), ("c", SHIFT * 0.5 + 0.01), ("d", -SHIFT)):
        runs.append(run_folder(tmp_path, name, IDS, np.clip(BASE + shift, 0, 1)))
    stats = compare_runs(runs, out=tmp_path / "cmp", n_bootstrap=100)
    p = np.array([stats["comparisons"][str(run)]["dice"]["p_value"] for run in runs[1:]])
    adjusted = [stats["comparisons"][str(run)]["dice"]["p_holm"] for run in runs[1:]]
    order = np.argsort(p)
    expected = np.empty(3)
    expected[order] = np.maximum.accumulate(np.minimum(1, (3 - np.arange(3)) * p[order]))
    np.testing.assert_allclose(adjusted, expected, rtol=1e-12)
    assert any(a > b for a, b in zip(adjusted, p))


def test_undefined_images_are_left_out_and_counted_nan_as_null(tmp_path, capsys):
    jaccard = BASE / (2 - BASE)
    first = run_folder(tmp_path, "a", IDS, BASE, jaccard=np.where(np.arange(8) < 2, np.nan,
                                                                    jaccard))
    second = run_folder(tmp_path, "b", IDS, BASE + SHIFT, jaccard=np.full(8, np.nan))
    stats = compare_runs([first, second], out=tmp_path / "cmp", n_bootstrap=50)
    assert "0 images" in capsys.readouterr().out
    saved = json.loads((tmp_path / "cmp" / "stats.json").read_text())
    result = saved["comparisons"][str(second)]["jaccard"]
    assert result["n_left_out"] == 8 and result["n_images"] == 0
    assert result["p_value"] is None and result["ci95"] == [None, None]
    assert stats["comparisons"][str(second)]["dice"]["n_left_out"] == 0
    third = run_folder(tmp_path, "c", IDS, BASE, jaccard=np.where(np.arange(8) == 5, np.nan,
                                                                    jaccard))
    result = compare_runs([first, third], out=tmp_path / "cmp2", n_bootstrap=50)
    assert result["comparisons"][str(third)]["jaccard"]["n_left_out"] == 3
    assert result["comparisons"][str(third)]["jaccard"]["n_images"] == 5


def test_a_planted_difference_is_significant_noise_is_not(tmp_path):
    rng = np.random.default_rng(0)
    ids = [f"ISIC_{i:07d}" for i in range(60)]
    base = rng.uniform(0.6, 0.9, 60)
    first = run_folder(tmp_path, "a", ids, base)
    better = run_folder(tmp_path, "better", ids, base + 0.03 + rng.normal(0, 0.01, 60))
    same = run_folder(tmp_path, "same", ids, base + rng.normal(0, 0.01, 60))
    stats = compare_runs([first, better, same], out=tmp_path / "cmp", n_bootstrap=1000)
    planted, noise = (stats["comparisons"][str(run)]["dice"] for run in (better, same))
    assert planted["p_holm"] < 1e-6 and planted["ci95"][0] > 0.02
    assert noise["p_holm"] > 0.05 and noise["ci95"][0] < 0 < noise["ci95"][1]


def test_different_images_are_refused_naming_the_first(tmp_path):
    first = run_folder(tmp_path, "a", IDS, BASE)
    other_ids = IDS[:3] + ["ISIC_0009999"] + IDS[4:]
    second = run_folder(tmp_path, "b", other_ids, BASE)
    with pytest.raises(ComparisonError, match=r"first that differs is ISIC_0000003, in "
                       rf"{first} but not in {second}"):
        compare_runs([first, second], out=tmp_path / "cmp")


def test_different_data_is_refused_unless_allowed(tmp_path):
    first = run_folder(tmp_path, "a", IDS, BASE)
    second = run_folder(tmp_path, "b", IDS, BASE, fingerprint="data-b")
    with pytest.raises(ComparisonError, match="other data.*--allow-different-data"):
        compare_runs([first, second], out=tmp_path / "cmp")
    compare_runs([first, second], out=tmp_path / "cmp", allow_different_data=True,
                 n_bootstrap=10)


def test_an_unevaluated_run_is_refused_with_the_command(tmp_path, capsys):
    first = run_folder(tmp_path, "a", IDS, BASE)
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "config.json").write_text("{}")
    status = Compare_Runs.main([str(first), str(bare), "--out", str(tmp_path / "cmp")])
    assert status == 1
    assert f"run `python Evaluate_Skin.py --run-dir {bare} --split test` first" in \
        capsys.readouterr().err
    with pytest.raises(ComparisonError, match=f"--run-dir {first} --split test --tta`"):
        compare_runs([first], tta=True, out=tmp_path / "cmp")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ComparisonError, match="neither a run folder"):
        compare_runs([tmp_path / "empty"], out=tmp_path / "cmp2")


def test_files_written_with_the_papers_row_and_as_original_columns(tmp_path, capsys):
    original = {"f1": 0.9, "jaccard": 0.95, "accuracy": 0.95, "sensitivity": 0.88,
                "specificity": 0.97, "auc": 0.96}
    first = run_folder(tmp_path, "a", IDS, BASE, as_original=original)
    evaluation = write_evaluation(tmp_path / "b_eval", IDS, BASE + SHIFT)  # no as_original
    assert Compare_Runs.main([str(first), str(evaluation), "--out", str(tmp_path / "cmp"),
                              "--bootstrap", "20"]) == 0
    table = (tmp_path / "cmp" / "table.md").read_text()
    assert table in capsys.readouterr().out
    lines = table.splitlines()
    assert "F1 as orig." in lines[0] and "per-image Dice" in lines[0]
    paper = next(line for line in lines if "(reported)" in line)
    assert "| 0.912 |" in paper and "| 0.964 | 0.964 |" in paper  # F1; JS = AC as printed
    own = next(line for line in lines if line.startswith(f"| {first} |"))
    assert "| 0.9000 |" in own and "0.9500" in own
    assert next(line for line in lines if line.startswith(f"| {evaluation} |")).endswith(
        "n/a | n/a | n/a | n/a | n/a | n/a |")
    with open(tmp_path / "cmp" / "table.csv") as stream:
        rows = list(csv.DictReader(stream))
    assert [row["source"] for row in rows] == ["measured", "measured", "reported"]
    assert float(rows[0]["per_image_dice_mean"]) == pytest.approx(BASE.mean(), abs=1e-6)
    assert float(rows[0]["f1"]) == pytest.approx(20 / 25)
    assert (tmp_path / "cmp" / "per_image_dice.png").stat().st_size > 1000


def test_groups_use_each_images_mean_over_their_runs(tmp_path):
    shifts = {"a0": 0.0, "a1": 0.02, "b0": 0.05, "b1": 0.01, "b2": 0.03}
    runs = {name: run_folder(tmp_path, name, IDS, BASE + shift + SHIFT * (name[0] == "b"))
            for name, shift in shifts.items()}
    stats = compare_runs(groups=[f"A={runs['a0']},{runs['a1']}",
                                 f"B={runs['b0']},{runs['b1']},{runs['b2']}"],
                         out=tmp_path / "cmp", n_bootstrap=100)
    mean_a = np.mean([np.round(BASE + s, 6) for s in (0.0, 0.02)], axis=0)
    mean_b = np.mean([np.round(BASE + SHIFT + s, 6) for s in (0.05, 0.01, 0.03)], axis=0)
    result = stats["comparisons"]["B"]["dice"]
    assert result["mean_difference"] == pytest.approx((mean_b - mean_a).mean(), abs=1e-12)
    assert result["p_value"] == pytest.approx(exact_wilcoxon_p(mean_b - mean_a), abs=1e-12)
    table = (tmp_path / "cmp" / "table.md").read_text()
    row = next(line for line in table.splitlines() if line.startswith("| A |"))
    assert "0.9000 ± 0.0000" in row  # the pooled AUC of both runs
    with pytest.raises(ComparisonError, match="NAME=RUN"):
        compare_runs(groups=["A="], out=tmp_path / "cmp")


def test_folds_pool_counts_over_every_case(tmp_path):
    folds, counts = [], [np.array([[8, 2, 1, 89], [5, 0, 5, 90]]),
                         np.array([[0, 4, 0, 96], [9, 1, 1, 89]])]
    for k, (fold_counts, auc) in enumerate(zip(counts, (0.9, 0.8))):
        scores = metrics.per_image_scores(fold_counts)
        folds.append(run_folder(tmp_path, f"ph2_fold{k}", IDS[2 * k:2 * k + 2], scores["dice"],
                                counts=fold_counts, fingerprint=f"fold{k}", auc=auc))
    compare_runs(folds, folds=True, out=tmp_path / "cmp", n_bootstrap=10)
    with open(tmp_path / "cmp" / "table.csv") as stream:
        row = next(csv.DictReader(stream))
    tp, fp, fn = 22, 7, 7  # the four images' counts added up
    assert float(row["f1"]) == pytest.approx(2 * tp / (2 * tp + fp + fn), abs=1e-6)
    fold_f1 = [2 * 13 / (26 + 2 + 6), 2 * 9 / (18 + 5 + 1)]
    assert float(row["f1_mean"]) == pytest.approx(np.mean(fold_f1), abs=1e-6)
    assert float(row["f1_std"]) == pytest.approx(np.std(fold_f1), abs=1e-6)
    assert float(row["auc"]) == pytest.approx(0.85)
    assert row["n_images"] == "4" and row["name"].endswith("(2 folds)")
    with pytest.raises(ComparisonError, match="both test ISIC_0000000"):
        compare_runs([folds[0], folds[0]], folds=True, out=tmp_path / "cmp")


def test_two_cross_validated_methods_are_tested_over_every_case(tmp_path):
    groups = {}
    for method, shift in (("A", 0.0), ("B", 0.04)):
        runs = [run_folder(tmp_path, f"{method}_fold{k}", IDS[4 * k:4 * k + 4],
                           BASE[4 * k:4 * k + 4] + shift + (SHIFT[4 * k:4 * k + 4] if shift else 0),
                           fingerprint=f"fold{k}") for k in range(2)]
        groups[method] = f"{method}={runs[0]},{runs[1]}"
    stats = compare_runs(groups=list(groups.values()), folds=True, out=tmp_path / "cmp",
                         n_bootstrap=100)
    result = stats["comparisons"]["B"]["dice"]
    differences = np.round(BASE + 0.04 + SHIFT, 6) - np.round(BASE, 6)
    assert result["n_images"] == 8  # both folds' cases
    assert result["mean_difference"] == pytest.approx(differences.mean(), abs=1e-12)
    assert result["p_value"] == pytest.approx(exact_wilcoxon_p(differences), abs=1e-12)
    other = run_folder(tmp_path, "C_fold0", IDS[:4], BASE[:4], fingerprint="elsewhere")
    with pytest.raises(ComparisonError, match="other data"):
        compare_runs(groups=[groups["A"], f"C={other},{tmp_path / 'B_fold1'}"], folds=True,
                     out=tmp_path / "cmp")
