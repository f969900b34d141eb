"""Masks and contour overlays as PNG files, written by prediction and by evaluation."""
from pathlib import Path

import numpy as np
from PIL import Image

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
    edge = mask & ~_erode(mask)
    for _ in range(thickness - 1):
        edge = _dilate(edge)
    return edge


def _neighbours(mask):
    """The mask's four neighbour planes (up, down, left, right), False beyond the border."""
    padded = np.pad(mask, 1, constant_values=False)
    return (padded[:-2, 1:-1], padded[2:, 1:-1], padded[1:-1, :-2], padded[1:-1, 2:])


# Numpy rather than scipy.ndimage (the same cross-shaped element, border False), so
# ONNX prediction needs only numpy and Pillow.
def _erode(mask):
    up, down, left, right = _neighbours(mask)
    return mask & up & down & left & right


def _dilate(mask):
    up, down, left, right = _neighbours(mask)
    return mask | up | down | left | right


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


def ensure_dir(path):
    """Create a folder (and its parents) and return it as a Path."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    return path
