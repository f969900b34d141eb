"""Summarises evaluation folders (`metrics.json`, `per_image.csv`) in a few lines: the
pooled scores, the spread of per-image Dice, and the worst images, for a README.

    python scripts/summarize_evaluation.py EVALUATION_DIR [...] [--worst 5] [--below 0.5 0.8]

It prints the command it ran first, so a saved output names its command.
"""
import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np

POOLED = ("f1", "sensitivity", "specificity", "accuracy", "jaccard", "auc")


def read_per_image(folder):
    """The rows of `folder/per_image.csv`, counts as int and scores as float."""
    with open(Path(folder) / "per_image.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [{key: value if key == "id" else (int(value) if key in ("tp", "fp", "fn", "tn")
                                             else float(value)) for key, value in row.items()}
            for row in rows]


def worst_images(rows, count):
    """The `count` rows of lowest Dice, each with its predicted area over its lesion's area
    (above 1: the prediction is too large; below 1: part of the lesion is missed)."""
    lowest = sorted(rows, key=lambda row: row["dice"])[:count]
    return [dict(row, area_ratio=(row["tp"] + row["fp"]) / max(row["tp"] + row["fn"], 1))
            for row in lowest]


def summarize(folder, worst=5, below=(0.5, 0.8)):
    """The summary's lines for one evaluation folder.

    Args:
        folder: str or PathLike. An evaluation folder (`Evaluate_Skin.py --out`).
        worst: int. How many of the lowest-Dice images to list. Defaults to 5.
        below: sequence of float. Dice levels whose counts of images below are given.

    Returns:
        list of str.
    """
    metrics = json.loads((Path(folder) / "metrics.json").read_text())
    rows = read_per_image(folder)
    dice = np.array([row["dice"] for row in rows])
    pooled = ", ".join(f"{name} {metrics['pooled'][name]:.4f}" for name in POOLED)
    counts = ", ".join(f"{int((dice < level).sum())} below {level:g}" for level in below)
    lines = [f"{folder}: {len(rows)} images, threshold {metrics['threshold']:g}, "
             f"tta {bool(metrics.get('tta'))}",
             f"  pooled: {pooled}",
             f"  per-image Dice: median {np.median(dice):.4f}, quartiles "
             f"{np.percentile(dice, 25):.4f} / {np.percentile(dice, 75):.4f}, "
             f"min {dice.min():.4f}, max {dice.max():.4f}; {counts}"]
    for row in worst_images(rows, worst):
        lines.append(f"  worst: {row['id']} Dice {row['dice']:.4f}, sensitivity "
                     f"{row['sensitivity']:.4f}, predicted area / lesion area "
                     f"{row['area_ratio']:.2f}")
    return lines


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", help="evaluation folders")
    parser.add_argument("--worst", type=int, default=5, help="lowest-Dice images listed (5)")
    parser.add_argument("--below", type=float, nargs="+", default=[0.5, 0.8],
                        help="Dice levels to count images below (0.5 0.8)")
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    print("$ python scripts/summarize_evaluation.py " + " ".join(argv))
    for folder in args.folders:
        print("\n".join(summarize(folder, args.worst, args.below)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
