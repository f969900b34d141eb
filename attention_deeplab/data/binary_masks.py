"""The mask rule of ``Prepare_Folder.py``: any mask file -> lesion or not, stored as 0/255.

A mask's value at a pixel is its grey level, or its brightest colour channel in
an RGB(A) or palette mask (so a red-on-black mask reads as lesion; alpha is
ignored). By default a pixel is lesion when its value is above half the
coding's full scale: above 0.5 for a 0/1 mask (one whose largest value is 1),
above 127 for 8-bit and above 32767 for 16-bit masks. So 0/1 and 0/255 masks give
the same stored mask, and JPEG noise around 0 and 255 stays on its side.
``--mask-threshold T`` instead makes lesion every pixel whose value is above T.
"""
import numpy as np
from PIL import Image

from attention_deeplab.data.image_files import READ_ERRORS, _hint, _resize_mask, read_image
from attention_deeplab.errors import PrepareError


def mask_values(image):
    """One value per pixel of a PIL mask: its grey level, or its brightest colour channel."""
    if image.mode in ("P", "PA", "LA"):
        image = image.convert("RGB")
    values = np.asarray(image)
    if values.ndim == 3:
        values = values[..., :3].max(axis=-1)
    return values


def default_threshold(values):
    """Half the full scale of the mask's coding: 0.5 (0/1), 127.5 (8-bit), 32767.5 (16-bit)."""
    largest = float(values.max()) if values.size else 0.0
    if largest <= 1:
        return 0.5
    return 127.5 if largest <= 255 else 32767.5


def binarize(values, threshold=None):
    """0/255 uint8: 255 where ``values`` is above ``threshold`` (None: the default rule)."""
    threshold = default_threshold(values) if threshold is None else float(threshold)
    return np.where(values > threshold, 255, 0).astype(np.uint8)


def read_binary_mask(path, threshold=None):
    """A mask file at its own size as 0/255 uint8 (height x width), by the rule above.

    Raises:
        PrepareError: the file cannot be read (the message names it).
    """
    try:
        with Image.open(path) as image:
            return binarize(mask_values(image), threshold)
    except READ_ERRORS as error:
        raise PrepareError(f"Cannot read mask {path}: {error}{_hint(error)}") from error


def read_folder_pair(task, threshold=None):
    """``image_files.read_pair`` for ``Prepare_Folder.py``: the mask binarised at its own
    size, then resized like every other dataset's (bilinear, so edges stay soft 0..255)."""
    index, pair, size, resize = task
    fast = resize == "fast"
    image = read_image(pair.image, size, draft=fast)
    mask = Image.fromarray(read_binary_mask(pair.mask, threshold))
    return index, image.tobytes(), _resize_mask(mask, size, reduce=fast).tobytes()
