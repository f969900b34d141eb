"""Segmentation metrics from per-image TP/FP/FN/TN counts, and ranking scores.

Every thresholded score is derived from integer confusion counts (as
segmentation_models_pytorch's ``get_stats`` and nnU-Net's
``compute_tp_fp_fn_tn``), pooled over the split as in the paper's table or per
image. The ROC AUC and average precision come from the probabilities through one
sort of each class, exact (ties included) and without a per-pixel Python loop.

The original code reported scikit-learn's ``jaccard_similarity_score`` on
flattened binary pixels, which is pixel accuracy; it is kept as
``jaccard_as_in_paper`` beside the true Jaccard index so both can be compared.
"""
import numpy as np

COUNT_NAMES = ("tp", "fp", "fn", "tn")
PER_IMAGE_SCORES = ("dice", "jaccard", "accuracy", "sensitivity", "specificity")
POOLED_SCORES = ("f1", "jaccard", "accuracy", "sensitivity", "specificity", "precision")
ISIC_JACCARD_FLOOR = 0.65  # ISIC 2018 challenge: per-image Jaccard below this counts as 0


def binarize_masks(masks, above=127.5):
    """Ground truth as booleans: lesion where ``mask / 255 > 0.5``.

    Args:
        masks: array of 0..255 masks (uint8 or legacy float), N x H x W or N x H x W x 1.
        above: float. The mask value a lesion pixel exceeds. Defaults to 127.5:
            mask / 255 > 0.5 without a float copy of the split. The original compared
            0..255 masks with 0.5, so any non-zero pixel became lesion (fixed here;
            `metrics_original` keeps it for the paper's columns).

    Returns:
        Boolean array N x H x W.
    """
    masks = np.asarray(masks)
    if masks.ndim == 4 and masks.shape[-1] == 1:
        masks = masks[..., 0]
    return masks > above


def binarize_probabilities(probabilities, threshold=0.5):
    """Predicted lesion where the probability is strictly above ``threshold``, as the original."""
    probabilities = np.asarray(probabilities)
    if probabilities.ndim == 4 and probabilities.shape[-1] == 1:
        probabilities = probabilities[..., 0]
    return probabilities > threshold


def _check_same_shape(prediction, truth):
    if prediction.shape != truth.shape:
        raise ValueError(
            f"predictions of shape {prediction.shape} and ground-truth masks of shape "
            f"{truth.shape} differ: they must have the same count and size")


def confusion_counts(prediction, truth):
    """Per-image confusion counts of two boolean mask stacks.

    Args:
        prediction: bool array N x H x W (predicted lesion).
        truth: bool array N x H x W (ground-truth lesion).

    Returns:
        int64 array N x 4 with columns TP, FP, FN, TN.
    """
    prediction, truth = np.asarray(prediction, bool), np.asarray(truth, bool)
    _check_same_shape(prediction, truth)
    if prediction.ndim == 2:
        prediction, truth = prediction[None], truth[None]
    pixels = int(np.prod(prediction.shape[1:]))
    pred_flat = prediction.reshape(len(prediction), pixels)
    truth_flat = truth.reshape(len(truth), pixels)
    tp = np.count_nonzero(pred_flat & truth_flat, axis=1).astype(np.int64)
    predicted = np.count_nonzero(pred_flat, axis=1).astype(np.int64)
    actual = np.count_nonzero(truth_flat, axis=1).astype(np.int64)
    fp, fn = predicted - tp, actual - tp
    return np.stack([tp, fp, fn, pixels - tp - fp - fn], axis=1)


def _ratio(numerator, denominator, when_zero=np.nan):
    numerator = np.asarray(numerator, np.float64)
    denominator = np.asarray(denominator, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = numerator / denominator
    return np.where(denominator == 0, when_zero, out)


def scores_from_counts(counts):
    """Every thresholded score from TP/FP/FN/TN counts (any leading shape).

    Dice and Jaccard of an empty prediction on an empty ground truth are 1;
    sensitivity without ground-truth lesion, specificity without background and
    precision without predicted lesion are undefined (NaN).

    Args:
        counts: int array ... x 4 (TP, FP, FN, TN).

    Returns:
        dict of float64 arrays: dice, jaccard, accuracy, sensitivity,
        specificity, precision.
    """
    tp, fp, fn, tn = np.moveaxis(np.asarray(counts, np.int64), -1, 0)
    return {
        "dice": _ratio(2 * tp, 2 * tp + fp + fn, when_zero=1.0),
        "jaccard": _ratio(tp, tp + fp + fn, when_zero=1.0),
        "accuracy": _ratio(tp + tn, tp + fp + fn + tn),
        "sensitivity": _ratio(tp, tp + fn),
        "specificity": _ratio(tn, tn + fp),
        "precision": _ratio(tp, tp + fp),
    }


def pooled_scores(counts):
    """Scores over all pixels of the split pooled, as the paper's table.

    Args:
        counts: int array N x 4 of per-image counts.

    Returns:
        dict of floats: f1 (Dice), jaccard, accuracy, sensitivity, specificity,
        precision, jaccard_as_in_paper (pixel accuracy, what the original
        reported as Jaccard) and the pooled counts.
    """
    total = np.asarray(counts, np.int64).reshape(-1, 4).sum(axis=0)
    scores = {name: float(value) for name, value in scores_from_counts(total).items()}
    scores["f1"] = scores.pop("dice")
    out = {name: scores[name] for name in POOLED_SCORES}
    out["jaccard_as_in_paper"] = scores["accuracy"]
    out.update({name: int(value) for name, value in zip(COUNT_NAMES, total)})
    return out


def per_image_scores(counts):
    """Dice, Jaccard, accuracy, sensitivity and specificity of each image (N arrays)."""
    scores = scores_from_counts(counts)
    return {name: scores[name] for name in PER_IMAGE_SCORES}


def summarize_per_image(per_image):
    """Mean, standard deviation and median of each per-image score, NaN left out.

    Args:
        per_image: dict name -> float array of N per-image scores.

    Returns:
        dict name -> {"mean", "std", "median", "n_undefined"} (None where every
        image is undefined), plus "isic_challenge_score": the mean per-image
        Jaccard with values below 0.65 counted as 0.
    """
    summary = {}
    for name, values in per_image.items():
        values = np.asarray(values, np.float64)
        defined = values[~np.isnan(values)]
        stats = {"mean": None, "std": None, "median": None}
        if defined.size:
            stats = {"mean": float(defined.mean()), "std": float(defined.std()),
                     "median": float(np.median(defined))}
        summary[name] = {**stats, "n_undefined": int(values.size - defined.size)}
    jaccard = np.asarray(per_image["jaccard"], np.float64)
    floored = np.where(jaccard < ISIC_JACCARD_FLOOR, 0.0, jaccard)
    summary["isic_challenge_score"] = float(floored.mean()) if floored.size else None
    return summary


def sorted_scores_by_class(probabilities, truth):
    """The probabilities of lesion pixels and of background pixels, each sorted.

    One sort of each class is all the ranking scores below need: two copies of
    the pixels, no per-pixel Python loop.
    """
    probabilities = np.asarray(probabilities)
    if probabilities.ndim == 4 and probabilities.shape[-1] == 1:
        probabilities = probabilities[..., 0]
    truth = np.asarray(truth, bool)
    _check_same_shape(probabilities, truth)
    positives, negatives = probabilities[truth], probabilities[~truth]
    positives.sort()
    negatives.sort()
    return positives, negatives


def ranking_scores(positives, negatives):
    """Exact ROC AUC and average precision from the sorted scores of each class.

    The AUC is the Mann-Whitney statistic with ties counted half, which equals
    the trapezoidal area under the exact ROC curve (scikit-learn's
    ``roc_auc_score``). The average precision is scikit-learn's
    ``average_precision_score``: the sum over distinct thresholds of the recall
    gained times the precision there.

    Args:
        positives: sorted 1-D scores of ground-truth lesion pixels.
        negatives: sorted 1-D scores of background pixels.

    Returns:
        (auc, average_precision) as floats; NaN where a class is absent (AUC)
        or there is no lesion pixel (average precision).
    """
    n_pos, n_neg = len(positives), len(negatives)
    if n_pos == 0:
        return float("nan"), float("nan")
    starts = np.flatnonzero(np.r_[True, positives[1:] != positives[:-1]])
    values = positives[starts]
    counts = np.diff(np.r_[starts, n_pos])
    below = np.searchsorted(negatives, values, side="left")
    tied = np.searchsorted(negatives, values, side="right") - below
    auc = float("nan")
    if n_neg:
        twice_u = int(np.sum(counts * (2 * below + tied)))
        auc = twice_u / (2.0 * n_pos * n_neg)
    true_above = n_pos - starts  # lesion pixels scoring >= each distinct value
    false_above = n_neg - below
    precision = true_above / (true_above + false_above)
    return auc, float(np.sum(counts * precision) / n_pos)


def curve_points(positives, negatives, max_points=2000):
    """Points of the ROC and precision-recall curves, for plotting.

    Thresholds are taken at evenly spaced ranks of each class (all distinct
    scores when there are few), so the curve is sampled evenly along both axes.

    Returns:
        dict of arrays: thresholds (descending), fpr, tpr, precision, recall.
    """
    picks = []
    for scores in (positives, negatives):
        if len(scores):
            picks.append(scores[np.linspace(0, len(scores) - 1, max_points // 2).astype(np.int64)])
    thresholds = np.unique(np.concatenate(picks))[::-1]
    n_pos, n_neg = max(len(positives), 1), max(len(negatives), 1)
    true_above = len(positives) - np.searchsorted(positives, thresholds, side="left")
    false_above = len(negatives) - np.searchsorted(negatives, thresholds, side="left")
    precision = _ratio(true_above, true_above + false_above, when_zero=1.0)
    return {"thresholds": thresholds,
            "fpr": np.r_[0.0, false_above / n_neg], "tpr": np.r_[0.0, true_above / n_pos],
            "precision": np.r_[1.0, precision], "recall": np.r_[0.0, true_above / n_pos]}


def best_dice_threshold(positives, negatives, candidates=None):
    """The threshold (prediction strictly above it) that maximises pooled Dice.

    Args:
        positives: sorted scores of lesion pixels.
        negatives: sorted scores of background pixels.
        candidates: thresholds to try; defaults to 0.01, 0.02, ..., 0.99.

    Returns:
        (threshold, dice) of the best candidate; the lowest threshold among ties.
    """
    if candidates is None:
        candidates = np.round(np.arange(1, 100) / 100.0, 2)
    # Compare in the probabilities' own precision, as `probabilities > threshold` does.
    candidates = np.asarray(candidates, np.float64)
    compared = candidates.astype(np.result_type(positives, negatives, np.float32))
    tp = len(positives) - np.searchsorted(positives, compared, side="right")
    fp = len(negatives) - np.searchsorted(negatives, compared, side="right")
    dice = _ratio(2 * tp, tp + fp + len(positives), when_zero=1.0)
    best = int(np.argmax(dice))
    return float(candidates[best]), float(dice[best])
