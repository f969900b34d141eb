"""`compare_runs`: the one function behind Compare_Runs.py."""
import os
import sys
from pathlib import Path

from attention_deeplab.comparison.entries import Entry, check_comparable
from attention_deeplab.comparison.html_report import write_html_report
from attention_deeplab.comparison.loading import load_evaluation
from attention_deeplab.errors import ComparisonError
from attention_deeplab.comparison.statistics import N_BOOTSTRAP, compare_all
from attention_deeplab.comparison.tables import (
    build_rows, format_stats, markdown_table, plot_per_image_dice, write_csv, write_stats)

DEFAULT_OUT = Path("output") / "comparison"
TESTED_SCORES = ("dice", "jaccard")


def parse_group(text):
    """``NAME=RUN,RUN,...`` -> (name, [runs])."""
    name, _, runs = text.partition("=")
    runs = [run for run in runs.split(",") if run]
    if not name or not runs:
        raise ComparisonError(f"--group must read NAME=RUN,RUN,..., got {text!r}")
    return name, runs


def _folds_name(runs):
    prefix = os.path.commonprefix([str(run).rstrip("/") for run in runs]).rstrip("/_-")
    return f"{prefix or runs[0]}* ({len(runs)} folds)"


def build_entries(runs, groups, folds, split, tta):
    """The table's rows in order: positional runs (one row each, or one cross-validation
    with `folds`), then each group."""
    load = lambda run: load_evaluation(run, split, tta)  # noqa: E731
    entries = []
    if folds and runs:
        entries.append(Entry(_folds_name(runs), [load(run) for run in runs], "folds"))
    else:
        entries += [Entry(str(run).rstrip("/"), [load(run)]) for run in runs]
    for text in groups:
        name, members = parse_group(text) if isinstance(text, str) else text
        entries.append(Entry(name, [load(run) for run in members],
                             "folds" if folds else "seeds"))
    names = [entry.name for entry in entries]
    if len(set(names)) != len(names):
        raise ComparisonError(f"two rows share a name in {', '.join(names)}: name the groups apart")
    return entries


def run_statistics(entries, n_bootstrap, seed):
    """stats.json's content: every row against the first, per-image Dice and Jaccard."""
    first = {score: entries[0].per_image(score)[1] for score in TESTED_SCORES}
    others = {entry.name: {score: _aligned_to(entries[0], entry, score)
                           for score in TESTED_SCORES} for entry in entries[1:]}
    return {"reference": entries[0].name, "n_bootstrap": n_bootstrap, "seed": seed,
            "test": "paired Wilcoxon signed-rank (scipy.stats.wilcoxon), two-sided",
            "holm_family": "the comparisons of one score",
            "comparisons": compare_all(first, others, TESTED_SCORES, n_bootstrap, seed)}


def _aligned_to(first, entry, score):
    ids, values = entry.per_image(score)
    position = {image_id: i for i, image_id in enumerate(ids)}
    return values[[position[image_id] for image_id in first.per_image(score)[0]]]


def compare_runs(runs=(), groups=(), folds=False, split="test", tta=False, out=None,
                 allow_different_data=False, n_bootstrap=N_BOOTSTRAP, seed=0, stream=None):
    """Compares evaluated runs in one table, with paired statistics against the first.

    Args:
        runs: run folders or evaluation folders, one row each (with `folds`, one
            row for all: the folds of one cross-validation).
        groups: "NAME=RUN,RUN,..." strings (or (name, runs) pairs): one row per
            group, its runs being seeds of one method (or, with `folds`, its folds).
        folds: bool. The runs of a row are cross-validation folds.
        split: str. The split a run folder's evaluation was made on. Defaults to "test".
        tta: bool. Read the test-time-flip evaluations (``<split>_tta``).
        out: str, Path or None. Output folder; defaults to output/comparison.
        allow_different_data: bool. Compare runs whose data fingerprints differ.
        n_bootstrap: int. Bootstrap resamples. Defaults to 10000.
        seed: int. Seed of the bootstrap. Defaults to 0.
        stream: file-like or None. Where the table and the statistics are printed.

    Returns:
        dict: the statistics written to stats.json.

    Raises:
        ComparisonError: an unevaluated run, runs on different images or data.
    """
    if n_bootstrap < 1:
        raise ComparisonError(f"--bootstrap must be at least 1, got {n_bootstrap}")
    entries = build_entries(list(runs), list(groups), folds, split, tta)
    if not entries:
        raise ComparisonError("give at least one run folder or --group")
    check_comparable(entries, allow_different_data)
    out = Path(out) if out is not None else DEFAULT_OUT
    out.mkdir(parents=True, exist_ok=True)
    dataset = entries[0].evaluations[0].metrics.get("dataset")
    rows = build_rows(entries, dataset)
    table = markdown_table(rows)
    (out / "table.md").write_text(table)
    write_csv(out / "table.csv", rows)
    plot_per_image_dice(out / "per_image_dice.png", entries)
    stats = run_statistics(entries, n_bootstrap, seed)
    stats.update({"split": split, "tta": tta, "folds": folds,
                  "rows": {entry.name: [str(run.folder) for run in entry.evaluations]
                           for entry in entries}})
    write_stats(out / "stats.json", stats)
    write_html_report(out, entries, stats, table)
    stream = stream or sys.stdout
    print(table, file=stream)
    if len(entries) > 1:
        print(format_stats(stats), file=stream)
    print(f"Written to {out}/ (table.md, table.csv, per_image_dice.png, stats.json, "
          "report.html)", file=stream)
    return stats
