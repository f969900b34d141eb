"""Evaluation metrics: ours against scikit-learn on the flattened pixels, same run.

ISIC 2018's test split is 520 predictions of 256x256 (34 million pixels). Ours:
per-image counts, every pooled and per-image score, exact ROC AUC, average
precision and the curves' points. The baseline is what a competent user writes
for the same scores: one scikit-learn confusion_matrix of the flattened pixels
(F1, Jaccard and accuracy from its counts), then roc_auc_score and
average_precision_score; it computes neither per-image scores nor curves, which
ours does on top. Claims: at least 10x less CPU time, counts-derived scores equal to
1e-9, AUCs within 1e-4.

    python benchmarks/bench_metrics.py [--count 520] [--size 256] [--seed 0]
"""
import argparse
import sys
import time

import numpy as np
from sklearn import metrics as skm

from attention_deeplab import metrics
from claims import check


def synthetic_predictions(count, size, seed):
    """Elliptic lesions and a model-like probability map: confident, blurred at the edge, noisy."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    masks = np.empty((count, size, size), np.uint8)
    probs = np.empty((count, size, size), np.float32)
    for i in range(count):
        cy, cx, ry, rx = rng.uniform(0.3, 0.7, 2).tolist() + rng.uniform(0.1, 0.3, 2).tolist()
        distance = np.sqrt(((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2)
        masks[i] = np.where(distance < 1, 255, 0)
        logits = 8 * (1 - distance) + rng.normal(0, 1.5, (size, size)).astype(np.float32)
        probs[i] = 1 / (1 + np.exp(-logits))
    return probs, masks


def ours(probs, masks):
    truth = metrics.binarize_masks(masks)
    counts = metrics.confusion_counts(metrics.binarize_probabilities(probs), truth)
    pooled = metrics.pooled_scores(counts)
    metrics.summarize_per_image(metrics.per_image_scores(counts))
    positives, negatives = metrics.sorted_scores_by_class(probs, truth)
    pooled["auc"], pooled["average_precision"] = metrics.ranking_scores(positives, negatives)
    metrics.curve_points(positives, negatives)
    return pooled


def baseline(probs, masks):
    """One confusion matrix, then scikit-learn's two ranking scores."""
    truth = masks.ravel() > 127
    scores = probs.ravel()
    tn, fp, fn, tp = skm.confusion_matrix(truth, scores > 0.5, labels=[False, True]).ravel()
    return {"tp": tp, "fp": fp, "fn": fn, "tn": tn,
            "auc": skm.roc_auc_score(truth, scores),
            "average_precision": skm.average_precision_score(truth, scores),
            "f1": 2 * tp / (2 * tp + fp + fn), "jaccard": tp / (tp + fp + fn),
            "accuracy": (tp + tn) / truth.size}


def timed(function, *args):
    """`function(*args)`, its wall time and this process's CPU time (steadier than the
    wall time on a shared machine; both sides run on one thread)."""
    start, cpu = time.perf_counter(), time.process_time()
    result = function(*args)
    return result, time.perf_counter() - start, time.process_time() - cpu


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=520, help="predictions (ISIC 2018 test: 520)")
    parser.add_argument("--size", type=int, default=256, help="height and width")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    probs, masks = synthetic_predictions(args.count, args.size, args.seed)
    print(f"{args.count} predictions of {args.size}x{args.size} ({probs.size:,} pixels)")
    mine, ours_s, ours_cpu = timed(ours, probs, masks)
    theirs, base_s, base_cpu = timed(baseline, probs, masks)
    failures = []
    for name in ("tp", "fp", "fn", "tn", "f1", "jaccard", "accuracy", "auc", "average_precision"):
        difference = abs(float(mine[name]) - float(theirs[name]))
        tolerance = 1e-4 if name in ("auc", "average_precision") else 1e-9
        print(f"  {name:18s} ours {float(mine[name]):.10g}  scikit-learn {float(theirs[name]):.10g}"
              f"  |diff| {difference:.2e}")
        if difference > tolerance:
            failures.append(name)
    print(f"ours {ours_s:.2f} s, scikit-learn {base_s:.2f} s (wall): {base_s / ours_s:.1f}x; "
          f"CPU time {ours_cpu:.2f} s vs {base_cpu:.2f} s: {base_cpu / ours_cpu:.1f}x")
    if failures:
        print(f"differences beyond tolerance in {failures}")
    equal = check("metrics equal scikit-learn's (scores differing beyond tolerance)",
                  len(failures), 0, at_most=True, unit="")
    fast = check(f"metrics of {args.count} predictions faster than scikit-learn (CPU time)",
                 base_cpu / ours_cpu, 10)
    return 0 if equal and fast else 1


if __name__ == "__main__":
    sys.exit(main())
