"""Scoring at each image's original size, as the ISIC challenges scored (``--native-resolution``).

Each probability map is resized back to its image's original size with the
bilinear geometry prediction uses (``inference.resize_probabilities``), then
thresholded and compared with the original mask file, which the data folder's
``split.json`` names (``Prepare_ISIC2018.py --official``, ``Prepare_Folder.py``), read
by the rule its preparation used (``mask_reader``). Masks of different
sizes cannot be stacked, so counts are taken image by image, and the ranking
scores (ROC AUC, average precision) come from histograms of the probabilities
in 2^16 levels, exact for the probabilities rounded to 1/65535.
"""
from pathlib import Path

import numpy as np
from tqdm import tqdm

from attention_deeplab import metrics
from attention_deeplab.data.binary_masks import read_binary_mask
from attention_deeplab.data.image_files import read_mask
from attention_deeplab.evaluation import figures
from attention_deeplab.evaluation.report import write_metrics_json, write_per_image_csv
from attention_deeplab.evaluation.scores import SplitScores
from attention_deeplab.inference.arrays import resize_probabilities
from attention_deeplab.inference.overlays import save_mask
from attention_deeplab.locations import METRICS_NAME, PER_IMAGE_NAME
from attention_deeplab.metrics_original import original_scores_from_counts, original_truth

LEVELS = 65536  # histogram levels of the probabilities for the ranking scores


def mask_sources(manifest, data_dir, split):
    """(original mask file, (height, width)) of each image of `split`, in its order.

    Raises:
        FileNotFoundError: no original sizes in split.json, or the dataset folder moved.
    """
    if "original_sizes" not in manifest or "mask_files" not in manifest:
        raise FileNotFoundError(
            f"{Path(data_dir) / 'split.json'} records no original sizes: prepare the data "
            "with Prepare_ISIC2018.py --official (or Prepare_ISIC2017.py --official, or "
            "Prepare_Folder.py)")
    source = Path(manifest["source"])
    ids = manifest["ids"][split]
    found = [(source / manifest["mask_files"][i], tuple(manifest["original_sizes"][i]))
             for i in ids]
    missing = [path for path, _ in found if not path.is_file()]
    if missing:
        raise FileNotFoundError(
            f"the dataset folder {source} named in {Path(data_dir) / 'split.json'} has moved "
            f"or changed ({missing[0]} not found, {len(missing)} of {len(ids)} masks missing): "
            "put it back, or prepare again with --official from its new place")
    return found


def mask_reader(manifest):
    """``read(path, size)`` -> 0..255 mask, by the rule the data's preparation used.

    A ``Prepare_Folder.py`` set records its mask rule (``mask_threshold``, None for the
    default): reading its masks otherwise would score coloured or thresholded masks
    against a truth the model was not trained on.
    """
    if manifest.get("dataset") == "folder":
        threshold = manifest.get("mask_threshold")
        return lambda path, size: read_binary_mask(path, threshold)
    return read_mask


def ranking_from_histograms(positives, negatives):
    """Exact ROC AUC (ties half) and average precision from per-level counts of each class."""
    positives, negatives = positives.astype(np.float64), negatives.astype(np.float64)
    n_pos, n_neg = positives.sum(), negatives.sum()
    if n_pos == 0:
        return float("nan"), float("nan")
    below = np.cumsum(negatives) - negatives
    auc = float(np.sum(positives * (below + negatives / 2)) / (n_pos * n_neg)) if n_neg else (
        float("nan"))
    true_above = n_pos - (np.cumsum(positives) - positives)  # lesion pixels at or above a level
    false_above = n_neg - below
    used = positives > 0
    precision = true_above[used] / (true_above[used] + false_above[used])
    return auc, float(np.sum(positives[used] * precision) / n_pos)


def curve_from_histograms(positives, negatives, max_points=2000):
    """ROC and precision-recall points (as ``metrics.curve_points``) from the histograms."""
    levels = np.flatnonzero((positives + negatives) > 0)[::-1]
    levels = levels[np.linspace(0, len(levels) - 1, min(max_points, len(levels))).astype(int)]
    true_above = np.cumsum(positives[::-1])[::-1][levels].astype(np.float64)
    false_above = np.cumsum(negatives[::-1])[::-1][levels].astype(np.float64)
    n_pos, n_neg = max(positives.sum(), 1), max(negatives.sum(), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(true_above + false_above > 0,
                             true_above / (true_above + false_above), 1.0)
    return {"thresholds": levels / (LEVELS - 1), "fpr": np.r_[0.0, false_above / n_neg],
            "tpr": np.r_[0.0, true_above / n_pos], "precision": np.r_[1.0, precision],
            "recall": np.r_[0.0, true_above / n_pos]}


def score_native(probabilities, sources, ids, threshold=0.5, masks_out=None, read=read_mask):
    """Every metric at native resolution, image by image.

    Args:
        probabilities: float array N x h x w at the model's size.
        sources: N (mask file, (height, width)), from ``mask_sources``.
        ids: the N ids (file names of the masks written).
        threshold: float. Lesion where the resized probability is strictly above it.
        masks_out: Path or None. Where to write each predicted mask at its original size.
        read: callable. ``read(path, size)`` -> 0..255 mask; from ``mask_reader``.

    Returns:
        SplitScores, as ``scores.score`` gives, without the stacked masks (their
        sizes differ); ``as_original`` from the original's ground truth, image by image.
    """
    counts = np.zeros((len(ids), 4), np.int64)
    original = np.zeros(4, np.int64)
    positives, negatives = np.zeros(LEVELS, np.int64), np.zeros(LEVELS, np.int64)
    for i, image_id in enumerate(tqdm(ids, desc="native resolution", unit="image")):
        path, size = sources[i]
        probability = resize_probabilities(probabilities[i], size)
        mask = read(path, size)[None]
        truth = metrics.binarize_masks(mask)[0]
        prediction = metrics.binarize_probabilities(probability, threshold)
        counts[i] = metrics.confusion_counts(prediction, truth)[0]
        original += metrics.confusion_counts(prediction, original_truth(mask)[0])[0]
        level = np.rint(probability * (LEVELS - 1)).astype(np.int64)
        positives += np.bincount(level[truth], minlength=LEVELS)
        negatives += np.bincount(level[~truth], minlength=LEVELS)
        if masks_out is not None:
            save_mask(prediction, masks_out / f"{image_id}.png")
    pooled = metrics.pooled_scores(counts)
    pooled["auc"], pooled["average_precision"] = ranking_from_histograms(positives, negatives)
    per_image = metrics.per_image_scores(counts)
    return SplitScores(pooled=pooled, per_image=per_image, counts=counts,
                       summary=metrics.summarize_per_image(per_image),
                       curve=curve_from_histograms(positives, negatives),
                       prediction=None, truth=None,
                       as_original=original_scores_from_counts(*original.tolist()))


def write_native(out, scores, ids, report):
    """metrics.json, per_image.csv, ROC.png, Precision_recall.png (masks/ come while scoring)."""
    out = Path(out)
    write_metrics_json(out / METRICS_NAME, report)
    write_per_image_csv(out / PER_IMAGE_NAME, ids, scores.counts, scores.per_image)
    figures.plot_roc(scores.curve, scores.pooled["auc"], out / "ROC.png",
                     title="ROC curve (native resolution)")
    figures.plot_precision_recall(scores.curve, scores.pooled["average_precision"],
                                  out / "Precision_recall.png",
                                  title="Precision-recall curve (native resolution)")
