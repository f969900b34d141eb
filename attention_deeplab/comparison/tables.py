"""What a comparison writes (table.md, table.csv, per_image_dice.png, stats.json) and prints."""
import csv
import json

import numpy as np
from matplotlib.figure import Figure

from attention_deeplab.comparison.entries import AS_ORIGINAL_KEYS, POOLED_KEYS
from attention_deeplab.evaluation.report import paper_scores

HEADERS = {"f1": "F1 (Dice)", "jaccard": "Jaccard", "accuracy": "AC", "sensitivity": "SE",
           "specificity": "SP", "auc": "AUC"}
ORIGINAL_HEADERS = {"f1": "F1 as orig.", "jaccard": "JS as orig.", "accuracy": "AC as orig.",
                    "sensitivity": "SE as orig.", "specificity": "SP as orig.",
                    "auc": "AUC as orig."}
SCORE_NAMES = {"dice": "Dice", "jaccard": "Jaccard"}


def build_rows(entries, dataset):
    """One dict per row: the runs' measured scores, then the paper's reported ones if known."""
    rows = []
    for entry in entries:
        _, dice = entry.per_image("dice")
        defined = dice[~np.isnan(dice)]
        rows.append({"name": entry.name, "source": "measured", "kind": entry.kind,
                     "n_runs": len(entry.evaluations), "n_images": int(dice.size),
                     "pooled": entry.pooled(), "as_original": entry.as_original(),
                     "per_image_dice": {"value": _mean(defined), "mean": _mean(defined),
                                        "std": float(defined.std()) if defined.size else None}})
    paper = paper_scores(dataset)
    if paper:
        # The paper's scores are its code's: its JS column is pixel accuracy (= AC), so
        # they sit in the "as original" columns, beside ours computed the same way.
        reported = {**paper, "jaccard": paper["accuracy"]}
        rows.append({"name": "paper (Azad et al. 2020)", "source": "reported", "kind": "paper",
                     "n_runs": None, "n_images": None, "pooled": None, "per_image_dice": None,
                     "as_original": {key: {"value": reported.get(key), "mean": None, "std": None}
                                     for key in AS_ORIGINAL_KEYS}})
    return rows


def _mean(values):
    return float(values.mean()) if values.size else None


def _absent(value):
    return value is None or (isinstance(value, float) and np.isnan(value))


def format_cell(cell, digits=4):
    """A table cell: a run's value, a group's mean +- std, a CV's pooled (mean +- std)."""
    if cell is None or _absent(cell.get("value")):
        return "n/a"
    value = f"{cell['value']:.{digits}f}"
    if cell.get("std") is None:
        return value
    spread = f"{cell['mean']:.{digits}f} ± {cell['std']:.{digits}f}"
    return f"{value} ({spread})" if cell.get("pooled") else spread


def _cells(row):
    pooled, original = row["pooled"] or {}, row["as_original"] or {}
    digits = 3 if row["kind"] == "paper" else 4
    cells = [format_cell(pooled.get(key)) for key in POOLED_KEYS]
    dice = row["per_image_dice"]
    cells.append("n/a" if dice is None or dice["mean"] is None
                 else f"{dice['mean']:.4f} ± {dice['std']:.4f}")
    return cells + [format_cell(original.get(key), digits) for key in AS_ORIGINAL_KEYS]


def markdown_table(rows):
    """table.md's content: the table and a legend."""
    shown_original = any(row["as_original"] for row in rows)
    headers = ["run", "images", *(HEADERS[key] for key in POOLED_KEYS), "per-image Dice"]
    if shown_original:
        headers += [ORIGINAL_HEADERS[key] for key in AS_ORIGINAL_KEYS]
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row in rows:
        cells = _cells(row)[:len(headers) - 2]
        name = row["name"] + (" (reported)" if row["source"] == "reported" else "")
        count = "" if row["n_images"] is None else str(row["n_images"])
        lines.append("| " + " | ".join([name, count, *cells]) + " |")
    kinds = {row["kind"] for row in rows}
    lines += ["", "Scores pooled over all pixels of the split; per-image Dice as mean ± std "
              "over images."]
    if "seeds" in kinds:
        lines.append("A group of runs: mean ± std over its runs; its per-image Dice is each "
                     "image's mean over the runs.")
    if "folds" in kinds:
        lines.append("Cross-validation: the score of the folds' pooled counts (every case once), "
                     "then mean ± std across folds; the AUC is the mean across folds.")
    if shown_original:
        lines.append("\"as orig.\": the paper's metrics computed as its code did (its JS is "
                     "pixel accuracy).")
    if "paper" in kinds:
        lines.append("(reported): the paper's own numbers, not measured here.")
    return "\n".join(lines) + "\n"


def write_csv(path, rows):
    """table.csv: for each score its value, mean and std (mean and std over runs or folds)."""
    columns = ["name", "source", "kind", "n_runs", "n_images"]
    for prefix, keys in (("", POOLED_KEYS), ("as_original_", AS_ORIGINAL_KEYS)):
        columns += [f"{prefix}{key}{part}" for key in keys for part in ("", "_mean", "_std")]
    columns += ["per_image_dice_mean", "per_image_dice_std"]
    with open(path, "w", newline="") as stream:
        writer = csv.DictWriter(stream, columns)
        writer.writeheader()
        for row in rows:
            record = {name: row[name] for name in columns[:5]}
            for prefix, block in (("", row["pooled"]), ("as_original_", row["as_original"])):
                for key, cell in (block or {}).items():
                    for part, field in (("", "value"), ("_mean", "mean"), ("_std", "std")):
                        record[f"{prefix}{key}{part}"] = _csv_number(cell.get(field))
            if row["per_image_dice"]:
                record["per_image_dice_mean"] = _csv_number(row["per_image_dice"]["mean"])
                record["per_image_dice_std"] = _csv_number(row["per_image_dice"]["std"])
            writer.writerow(record)


def _csv_number(value):
    return "" if _absent(value) else f"{value:.6f}"


def plot_per_image_dice(path, entries):
    """per_image_dice.png: a box plot of each row's per-image Dice, every image as a dot."""
    values = [entry.per_image("dice")[1] for entry in entries]
    values = [v[~np.isnan(v)] for v in values]
    figure = Figure(figsize=(1.6 + 1.4 * len(values), 4.5), dpi=120)
    axes = figure.add_subplot()
    axes.boxplot(values, showfliers=False)
    jitter = np.random.default_rng(0)
    for position, dice in enumerate(values, start=1):
        axes.scatter(position + jitter.uniform(-0.15, 0.15, dice.size), dice, s=6, alpha=0.4)
    axes.set_xticks(range(1, len(values) + 1),
                    [entry.name for entry in entries], rotation=20, ha="right", fontsize=8)
    axes.set_ylabel("per-image Dice")
    axes.set_ylim(-0.02, 1.02)
    axes.grid(axis="y", alpha=0.3)
    figure.savefig(path, bbox_inches="tight")


def json_ready(value):
    """NaN as null, numpy numbers as Python ones, in nested dicts and lists."""
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(item) for item in value]
    if isinstance(value, (float, np.floating)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def write_stats(path, stats):
    path.write_text(json.dumps(json_ready(stats), indent=2, allow_nan=False) + "\n")


def _number(value, spec):
    return "n/a" if _absent(value) else format(value, spec)


def format_stats(stats):
    """The statistics as printed in the terminal."""
    lines = [f"Against {stats['reference']} (paired Wilcoxon signed-rank test; bootstrap 95% CI "
             f"of the mean difference, {stats['n_bootstrap']} resamples, seed {stats['seed']}"
             + ("; Holm-corrected" if len(stats["comparisons"]) > 1 else "") + "):"]
    for name, by_score in stats["comparisons"].items():
        for score, result in by_score.items():
            low, high = result["ci95"]
            left = f", {result['n_left_out']} left out (undefined)" if result["n_left_out"] else ""
            lines.append(
                f"  {name}: {SCORE_NAMES.get(score, score)} difference "
                f"{_number(result['mean_difference'], '+.4f')} (95% CI {_number(low, '+.4f')} "
                f"to {_number(high, '+.4f')}), p = {_number(result['p_value'], '.3g')}, "
                f"Holm p = {_number(result['p_holm'], '.3g')}, {result['n_images']} images{left}")
    return "\n".join(lines)
