"""Figures and images of an evaluation: curves, masks, contour overlays, a samples grid.

Matplotlib is used through ``Figure`` objects (no pyplot), so nothing depends on
a display or changes the global backend of the caller.
"""
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from PIL import Image
from scipy import ndimage
from tqdm import tqdm

TRUTH_COLOUR = (0, 255, 0)  # ground-truth contour: green
# Predicted contour: magenta, which most colour-blind readers still tell from green.
PREDICTION_COLOUR = (255, 0, 255)


def save_mask(mask, path):
    """Write a boolean mask as a 0/255 grey PNG."""
    Image.fromarray(np.where(mask, 255, 0).astype(np.uint8)).save(path)


def contour(mask, thickness=None):
    """The boundary pixels of a boolean mask, drawn ``thickness`` pixels wide.

    Args:
        mask: bool array H x W.
        thickness: int. Defaults to one pixel per 256 of the shorter side, so
            contours stay visible on full-resolution dermoscopy images.
    """
    mask = np.asarray(mask, bool)
    if thickness is None:
        thickness = max(1, round(min(mask.shape) / 256))
    interior = ndimage.binary_erosion(mask, border_value=0)
    edge = mask & ~interior
    if thickness > 1:
        edge = ndimage.binary_dilation(edge, iterations=thickness - 1)
    return edge


def overlay(image, truth=None, prediction=None, thickness=None):
    """The image with the ground-truth (green) and predicted (magenta) contours.

    Args:
        image: uint8 array H x W x 3 (or H x W grey).
        truth: bool array H x W or None.
        prediction: bool array H x W or None.
        thickness: contour width in pixels; see ``contour``.

    Returns:
        uint8 array H x W x 3.
    """
    out = np.array(image, dtype=np.uint8, copy=True)
    if out.ndim == 2:
        out = np.repeat(out[..., None], 3, axis=-1)
    for mask, colour in ((truth, TRUTH_COLOUR), (prediction, PREDICTION_COLOUR)):
        if mask is not None:
            out[contour(mask, thickness)] = colour
    return out


def save_overlay(image, path, truth=None, prediction=None, thickness=None):
    """Write ``overlay(image, truth, prediction)`` as a PNG."""
    Image.fromarray(overlay(image, truth, prediction, thickness)).save(path)


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


def write_figures(out, result, images, ids):
    """ROC.png, Precision_recall.png, masks/<id>.png, overlays/<id>.png and samples.png.

    Args:
        out: Path. The evaluation folder.
        result: dict from ``evaluation.score`` (pooled, curve, truth, prediction, per_image).
        images: uint8 array N x H x W x 3, the evaluated images.
        ids: N image ids, the file names.
    """
    pooled, truth, prediction = result["pooled"], result["truth"], result["prediction"]
    plot_roc(result["curve"], pooled["auc"], out / "ROC.png")
    plot_precision_recall(result["curve"], pooled["average_precision"],
                          out / "Precision_recall.png")
    masks_dir, overlays_dir = ensure_dir(out / "masks"), ensure_dir(out / "overlays")
    for i, image_id in enumerate(tqdm(ids, desc="writing masks", unit="image")):
        save_mask(prediction[i], masks_dir / f"{image_id}.png")
        save_overlay(images[i], overlays_dir / f"{image_id}.png", truth[i], prediction[i])
    plot_samples(images, truth, prediction, result["per_image"]["dice"], ids, out / "samples.png")


def ensure_dir(path):
    """Create a folder (and its parents) and return it as a Path."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    return path
