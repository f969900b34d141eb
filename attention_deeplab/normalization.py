"""The model's input normalisation, numpy only: shared by training's loader and by
prediction, which must run without Keras (ONNX deployment)."""
import numpy as np


def normalize_images(batch):
    """Scales each image to 0..255 by its own minimum and maximum.

    The original's `dataset_normalized` first standardised the whole set by
    its global mean and deviation, then min-max scaled each image; an affine
    map followed by a min-max scaling is the min-max scaling alone, so the
    global statistics cancel and need not be computed (nor the set loaded).
    A constant image, 0/0 in the original, becomes zeros.

    Args:
        batch: array, N x H x W x C, any numeric dtype.

    Returns:
        float32 array of the same shape.
    """
    batch = np.asarray(batch)
    # Extremes in the input's own dtype (float32 rounding keeps their order),
    # then one float32 copy scaled in place: the input is never written.
    low = batch.min(axis=(1, 2, 3), keepdims=True).astype(np.float32)
    span = batch.max(axis=(1, 2, 3), keepdims=True).astype(np.float32) - low
    scale = np.divide(255.0, span, out=np.zeros_like(span), where=span > 0)
    out = batch.astype(np.float32)
    out -= low
    out *= scale
    return out
