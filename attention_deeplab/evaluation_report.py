"""What an evaluation reports: metrics.json's content, per_image.csv and the printed table."""
import csv
from pathlib import Path

import numpy as np

from attention_deeplab import metrics
from attention_deeplab.runs import BEST_WEIGHTS

# Azad et al. 2020: the ISIC 2018 scores the paper reports for Attention Deeplabv3+.
PAPER_SCORES = {"isic2018": {"f1": 0.912, "sensitivity": 0.885, "specificity": 0.988,
                             "accuracy": 0.964}}
TABLE_ROWS = (("f1", "F1 (Dice)"), ("jaccard", "Jaccard (IoU)"), ("accuracy", "Accuracy"),
              ("sensitivity", "Sensitivity"), ("specificity", "Specificity"),
              ("precision", "Precision"), ("auc", "ROC AUC"),
              ("average_precision", "Average precision"),
              ("jaccard_as_in_paper", "JS as the original computed it (= accuracy)"))
# The paper's columns as its code computed them (metrics_original.py).
AS_ORIGINAL_ROWS = (("f1", "F1"), ("sensitivity", "SE"), ("specificity", "SP"),
                    ("accuracy", "AC"), ("jaccard", "JS (= AC)"), ("auc", "AUC (= (SE+SP)/2)"))


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


def build_report(name, split, data_dir, run_dir, weights, images, threshold, selection, tta,
                 result):
    """The content of metrics.json (undefined scores as null)."""
    if weights is None and run_dir is not None:
        weights = Path(run_dir) / BEST_WEIGHTS
    return json_safe({
        "dataset": name, "split": split, "data_dir": str(data_dir),
        "run_dir": None if run_dir is None else str(run_dir),
        "weights": None if weights is None else str(weights),
        "n_images": len(images), "image_size": list(images.shape[1:3]),
        "ground_truth": "mask / 255 > 0.5", "prediction": "probability > threshold",
        "threshold": float(threshold), "threshold_selection": selection, "tta": bool(tta),
        "pooled": result["pooled"], "per_image": result["summary"],
        "as_original": result["as_original"],
        "paper": PAPER_SCORES.get(name)})
