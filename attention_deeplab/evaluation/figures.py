"""Figures and images of an evaluation: curves, masks, contour overlays, a samples grid.

The mask and overlay writers are prediction's (`inference/overlays.py`).

Matplotlib is used through ``Figure`` objects (no pyplot), so nothing depends on
a display or changes the global backend of the caller.
"""
import numpy as np
from matplotlib.figure import Figure
from tqdm import tqdm

from attention_deeplab.inference.overlays import ensure_dir, overlay, save_mask, save_overlay

def plot_roc(curve, auc, path, title="ROC curve"):
    """ROC.png: true positive rate against false positive rate, with the AUC.

    Args:
        curve: dict with "fpr" and "tpr" arrays (``metrics.curve_points``).
        auc: float. Area under the curve, shown in the legend.
        path: where to write the PNG.
    """
    figure = Figure(figsize=(5, 5), dpi=120)
    axes = figure.add_subplot()
    axes.plot(curve["fpr"], curve["tpr"], label=f"AUC = {auc:.4f}")
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
    _finish(axes, "False positive rate", "True positive rate", title, "lower right")
    figure.savefig(path, bbox_inches="tight")


def plot_precision_recall(curve, average_precision, path, title="Precision-recall curve"):
    """Precision_recall.png: precision against recall, with the average precision."""
    figure = Figure(figsize=(5, 5), dpi=120)
    axes = figure.add_subplot()
    axes.plot(curve["recall"], curve["precision"], label=f"AP = {average_precision:.4f}")
    _finish(axes, "Recall", "Precision", title, "lower left")
    figure.savefig(path, bbox_inches="tight")


def _finish(axes, xlabel, ylabel, title, legend_location):
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1.01)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend(loc=legend_location)


def sample_indices(dice, per_group=3):
    """Indices of the best, median and worst images by Dice (three groups)."""
    order = np.argsort(-np.nan_to_num(np.asarray(dice, np.float64), nan=-1.0), kind="stable")
    per_group = max(1, min(per_group, len(order) // 3 or 1))
    middle = max(0, len(order) // 2 - per_group // 2)
    return {"best": order[:per_group].tolist(),
            "median": order[middle:middle + per_group].tolist(),
            "worst": order[::-1][:per_group].tolist()}


def plot_samples(images, truths, predictions, dice, ids, path, per_group=3):
    """samples.png: overlays of the best, median and worst cases by Dice, one row each.

    Args:
        images: uint8 array N x H x W x 3 (may be memory-mapped).
        truths: bool array N x H x W.
        predictions: bool array N x H x W.
        dice: per-image Dice, N floats.
        ids: N image ids, shown in the titles.
        path: where to write the PNG.
        per_group: images per row.
    """
    groups = sample_indices(dice, per_group)
    columns = max(len(indices) for indices in groups.values())
    figure = Figure(figsize=(3 * columns, 3.2 * len(groups)), dpi=100)
    for row, (group, indices) in enumerate(groups.items()):
        for column in range(columns):
            axes = figure.add_subplot(len(groups), columns, row * columns + column + 1)
            axes.axis("off")
            if column < len(indices):
                i = indices[column]
                axes.imshow(overlay(images[i], truths[i], predictions[i]))
                axes.set_title(f"{group}: {ids[i]}\nDice {dice[i]:.3f}", fontsize=8)
    figure.suptitle("Ground truth (green) and prediction (magenta)", fontsize=10)
    figure.savefig(path, bbox_inches="tight")


def write_figures(out, scores, images, ids):
    """ROC.png, Precision_recall.png, masks/<id>.png, overlays/<id>.png and samples.png.

    Args:
        out: Path. The evaluation folder.
        scores: SplitScores. From ``evaluate.score``.
        images: uint8 array N x H x W x 3, the evaluated images.
        ids: N image ids, the file names.
    """
    pooled, truth, prediction = scores.pooled, scores.truth, scores.prediction
    plot_roc(scores.curve, pooled["auc"], out / "ROC.png")
    plot_precision_recall(scores.curve, pooled["average_precision"],
                          out / "Precision_recall.png")
    masks_dir, overlays_dir = ensure_dir(out / "masks"), ensure_dir(out / "overlays")
    for i, image_id in enumerate(tqdm(ids, desc="writing masks", unit="image")):
        save_mask(prediction[i], masks_dir / f"{image_id}.png")
        save_overlay(images[i], overlays_dir / f"{image_id}.png", truth[i], prediction[i])
    plot_samples(images, truth, prediction, scores.per_image["dice"], ids, out / "samples.png")
