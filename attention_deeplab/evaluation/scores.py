"""Every metric of a split (`SplitScores`) and how they come from probabilities and masks.

Its own module so that both the evaluator and native-resolution scoring build
`SplitScores` without importing each other.
"""
from dataclasses import dataclass

import numpy as np

from attention_deeplab import metrics
from attention_deeplab.metrics_original import scores_as_original


@dataclass(frozen=True)
class SplitScores:
    """Every metric of a split, and the masks they come from.

    Args:
        pooled: dict. Scores over all pixels (f1 is the pooled Dice), counts, auc,
            average_precision.
        per_image: dict. Score name -> array of N per-image scores (NaN: undefined).
        summary: dict. Per-image mean, std, median and undefined counts.
        counts: int array N x 4. TP, FP, FN, TN per image.
        curve: dict. ROC and precision-recall points.
        prediction: bool array N x H x W.
        truth: bool array N x H x W.
        as_original: dict. The paper's columns as its code computed them
            (`metrics_original`).
    """

    pooled: dict
    per_image: dict
    summary: dict
    counts: np.ndarray
    curve: dict
    prediction: np.ndarray
    truth: np.ndarray
    as_original: dict


def score(probabilities, masks, threshold=0.5):
    """Every metric of a split from its probabilities and 0..255 masks.

    Returns:
        SplitScores.
    """
    truth = metrics.binarize_masks(masks)
    prediction = metrics.binarize_probabilities(probabilities, threshold)
    counts = metrics.confusion_counts(prediction, truth)
    pooled = metrics.pooled_scores(counts)
    positives, negatives = metrics.sorted_scores_by_class(probabilities, truth)
    pooled["auc"], pooled["average_precision"] = metrics.ranking_scores(positives, negatives)
    per_image = metrics.per_image_scores(counts)
    return SplitScores(pooled=pooled, per_image=per_image, counts=counts,
                       summary=metrics.summarize_per_image(per_image),
                       curve=metrics.curve_points(positives, negatives),
                       prediction=prediction, truth=truth,
                       as_original=scores_as_original(prediction, masks))
