"""What an evaluation reports: metrics.json's content, per_image.csv and the printed table."""
import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from attention_deeplab import metrics
from attention_deeplab.datasets import DATASETS
from attention_deeplab.files import write_text_atomic

TABLE_ROWS = (("f1", "F1 (Dice)"), ("jaccard", "Jaccard (IoU)"), ("accuracy", "Accuracy"),
              ("sensitivity", "Sensitivity"), ("specificity", "Specificity"),
              ("precision", "Precision"), ("auc", "ROC AUC"),
              ("average_precision", "Average precision"),
              ("jaccard_as_in_paper", "JS as the original computed it (= accuracy)"))
# The paper's columns as its code computed them (metrics_original.py).
AS_ORIGINAL_ROWS = (("f1", "F1"), ("sensitivity", "SE"), ("specificity", "SP"),
                    ("accuracy", "AC"), ("jaccard", "JS (= AC)"), ("auc", "AUC (= (SE+SP)/2)"))


def write_metrics_json(path, report):
    """metrics.json: the report in its own key order, strict JSON, written atomically
    (a run folder watched during an evaluation never shows half a file)."""
    write_text_atomic(path, json.dumps(report, indent=2, allow_nan=False) + "\n")


def write_per_image_csv(path, ids, counts, per_image):
    """per_image.csv: id, the four counts and the five per-image scores."""
    with open(path, "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["id", *metrics.COUNT_NAMES, *per_image])
        for i, image_id in enumerate(ids):
            scores = [f"{per_image[name][i]:.6f}" for name in per_image]
            writer.writerow([image_id, *counts[i].tolist(), *scores])


def _score_row(label, value, paper_value=None):
    row = f"  {label:44s} " + ("    n/a" if value is None else f"{value:7.4f}")
    return row + ("" if paper_value is None else f" {paper_value:7.3f}")


def format_table(report):
    """The printed summary: pooled scores (beside the paper's where known), the
    paper's columns as the original computed them, and per-image means."""
    paper = report.get("paper") or {}
    selection = report.get("threshold_selection")
    chosen = "" if not selection else (
        f" (chosen on val: pooled Dice {selection['val_dice']:.4f}, "
        f"{selection['val_dice_at_0.5']:.4f} at 0.5)")
    lines = [f"{report['split']} split of {report['data_dir']}: {report['n_images']} images, "
             f"threshold {report['threshold']:g}{chosen}" + (", TTA" if report["tta"] else ""),
             f"{'pooled over all pixels':46s} {'ours':>7s}" + (f" {'paper':>7s}" if paper else "")]
    for key, label in TABLE_ROWS:
        lines.append(_score_row(label, report["pooled"][key], paper.get(key)))
    if "as_original" in report:
        lines.append("as the original computed them (any non-zero mask pixel is lesion)")
        for key, label in AS_ORIGINAL_ROWS:
            lines.append(_score_row(label, report["as_original"][key], paper.get(key)))
    lines.append("per image (mean +- std, median; undefined left out)")
    for name in metrics.PER_IMAGE_SCORES:
        s = report["per_image"][name]
        text = "undefined" if s["mean"] is None else (
            f"{s['mean']:.4f} +- {s['std']:.4f}, {s['median']:.4f}")
        left_out = f" ({s['n_undefined']} undefined)" if s["n_undefined"] else ""
        lines.append(f"  {name:14s} {text}{left_out}")
    lines.append(f"  ISIC challenge score (Jaccard < 0.65 as 0): "
                 f"{report['per_image']['isic_challenge_score']:.4f}")
    return "\n".join(lines)


def json_safe(value):
    """NaN (an undefined score) as null, numpy scalars as Python numbers."""
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (float, np.floating)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


@dataclass(frozen=True)
class EvaluationContext:
    """What was evaluated, and how: everything metrics.json records beside the scores.

    Args:
        dataset: str or None. The dataset's name (paper scores are looked up by it).
        split: str. "test" or "val".
        data_dir: Path. The prepared arrays.
        run_dir: Path or None. The training run the model came from.
        weights: Path or None. The weights evaluated.
        image_size: tuple. (H, W) of the evaluated arrays.
        threshold: float. Lesion where the probability is strictly above it.
        threshold_selection: dict or None. How `--threshold auto` chose it.
        tta: bool. Test-time flips.
    """

    dataset: str
    split: str
    data_dir: Path
    run_dir: Path
    weights: Path
    image_size: tuple
    threshold: float
    threshold_selection: dict
    tta: bool


def paper_scores(dataset):
    """The scores the paper reports for `dataset`, or None."""
    facts = DATASETS.get(dataset)
    return dict(facts.paper_scores) if facts is not None and facts.paper_scores else None


def build_report(context, scores):
    """The content of metrics.json (undefined scores as null).

    Args:
        context: EvaluationContext.
        scores: SplitScores.
    """
    return json_safe({
        "dataset": context.dataset, "split": context.split, "data_dir": str(context.data_dir),
        "run_dir": None if context.run_dir is None else str(context.run_dir),
        "weights": None if context.weights is None else str(context.weights),
        "n_images": len(scores.counts), "image_size": list(context.image_size),
        "ground_truth": "mask / 255 > 0.5", "prediction": "probability > threshold",
        "threshold": context.threshold, "threshold_selection": context.threshold_selection,
        "tta": context.tta, "pooled": scores.pooled, "per_image": scores.summary,
        "as_original": scores.as_original, "paper": paper_scores(context.dataset)})
