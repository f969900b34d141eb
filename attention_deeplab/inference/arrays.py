"""Probability maps from a model: normalisation as in training, batches, test-time flips.

Shared by evaluation (prepared arrays) and prediction (image files), so both see
the model exactly as training did.
"""
import numpy as np
from PIL import Image

from attention_deeplab.normalization import normalize_images


def model_input_size(model):
    """The (height, width) the model takes.

    Raises:
        ValueError: the model's input has no fixed height and width.
    """
    shape = tuple(model.input_shape)
    if len(shape) != 4 or shape[1] is None or shape[2] is None:
        raise ValueError(f"the model's input shape {shape} has no fixed height and width")
    return int(shape[1]), int(shape[2])


def _forward(model, batch, rows=None):
    count = len(batch)
    if rows is not None and count < rows:
        # A last, smaller batch padded to the others' size reuses their compiled
        # function; in inference mode each image's output is its own, so the
        # padding rows are simply dropped.
        batch = np.concatenate([batch, np.zeros((rows - count,) + batch.shape[1:], batch.dtype)])
    # Contiguous: the flipped views have negative strides, which torch tensors refuse.
    output = np.asarray(model.predict_on_batch(np.ascontiguousarray(batch)), dtype=np.float32)
    output = output[:count]
    if output.ndim == 4:
        if output.shape[-1] != 1:
            raise ValueError(f"the model outputs {output.shape[-1]} channels; expected 1 "
                             "(one lesion probability per pixel)")
        output = output[..., 0]
    return output


def predict_batch(model, images, tta=False, pad_to=None):
    """Lesion probabilities of one batch of uint8 images.

    Args:
        model: keras.Model with a sigmoid output, B x H x W x 1.
        images: array B x H x W x 3 at the model's input size (uint8 as prepared).
        tta: bool. Average the predictions of the identity, the horizontal flip
            and the vertical flip (each flipped back). Defaults to False.
        pad_to: int or None. Run a smaller batch padded to this many images
            (the same result; one compiled function for every batch).

    Returns:
        float32 array B x H x W.
    """
    batch = normalize_images(images)
    probabilities = _forward(model, batch, pad_to)
    if tta:
        # Flipping commutes with the per-image min-max normalisation, so the
        # normalised batch is flipped rather than normalised again.
        probabilities = probabilities + _forward(model, batch[:, :, ::-1], pad_to)[:, :, ::-1]
        probabilities = probabilities + _forward(model, batch[:, ::-1], pad_to)[:, ::-1]
        probabilities = probabilities / 3.0
    return probabilities


def predict_array(model, images, batch_size=8, tta=False, progress=None):
    """Lesion probabilities of a whole stack of images, drawn batch by batch.

    Args:
        model: keras.Model.
        images: array N x H x W x 3 (may be memory-mapped: only one batch is
            read and normalised at a time).
        batch_size: int. Images per forward pass. Defaults to 8.
        tta: bool. Test-time flips, see ``predict_batch``.
        progress: a tqdm-like object with ``update(n)``, or None.

    Returns:
        float32 array N x H x W.
    """
    if batch_size < 1:
        raise ValueError(f"--batch-size must be at least 1, got {batch_size}")
    count, height, width = images.shape[:3]
    if (height, width) != model_input_size(model):
        raise ValueError(f"the images are {height}x{width} but the model takes "
                         f"{model_input_size(model)}: prepare the data at the model's size")
    out = np.empty((count, height, width), np.float32)
    for start in range(0, count, batch_size):
        stop = min(start + batch_size, count)
        out[start:stop] = predict_batch(model, images[start:stop], tta=tta,
                                        pad_to=min(batch_size, count))
        if progress is not None:
            progress.update(stop - start)
    return out


def resize_image(image, size):
    """An RGB image resized with Pillow's bilinear filter, as the Prepare scripts resize.

    Args:
        image: PIL.Image in mode RGB.
        size: (height, width).

    Returns:
        uint8 array height x width x 3.
    """
    return np.asarray(image.resize((size[1], size[0]), Image.BILINEAR), dtype=np.uint8)


def resize_probabilities(probabilities, size):
    """A probability map resized bilinearly on floats to (height, width), before any threshold."""
    if tuple(probabilities.shape) == tuple(size):
        return np.asarray(probabilities, np.float32)
    image = Image.fromarray(np.ascontiguousarray(probabilities, np.float32))
    resized = np.asarray(image.resize((size[1], size[0]), Image.BILINEAR), dtype=np.float32)
    # Bilinear weights are convex, but guard the [0, 1] range against rounding.
    return np.clip(resized, 0.0, 1.0)
