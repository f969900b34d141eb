"""Decoding one image/mask pair into uint8 arrays of the target size."""
import math

import numpy as np
from PIL import Image

from attention_deeplab.errors import PrepareError

# Pillow refuses images over twice MAX_IMAGE_PIXELS with its own exception class.
READ_ERRORS = (OSError, SyntaxError, ValueError, Image.DecompressionBombError)

# The JPEG decoder may shrink by 1/2, 1/4 or 1/8 while decoding (Pillow `draft`);
# we let it go no lower than DRAFT_MARGIN times the target, so the bilinear resize
# that follows still averages over 1.5 decoded pixels per output pixel. Measured on
# grainy ISIC-sized JPEGs: within 0.7 grey levels (mean absolute difference) of a
# full decode at 128-512 px, 0.95 at 64 px; the bound we test is 1.5.
DRAFT_MARGIN = 1.5
# "fast": the two shortcuts above (JPEG draft, box-reduced masks); "exact": the
# original's path, a full decode and Pillow's plain bilinear resize (what
# scipy.misc.imresize(..., interp="bilinear") called). bench_prepare.py --fidelity
# measures how far apart they are.
RESIZE_MODES = ("fast", "exact")


def _hint(error):
    """What to do about an image Pillow refuses as too large."""
    if isinstance(error, Image.DecompressionBombError):
        return (" (if the file is trusted, raise PIL.Image.MAX_IMAGE_PIXELS, or shrink "
                "the image first)")
    return ""


def parse_size(size):
    """Turns ``256``, ``[256]`` or ``[192, 256]`` into an ``(height, width)`` tuple."""
    values = [size] if np.isscalar(size) else list(size)
    if len(values) == 1:
        values = values * 2
    if len(values) != 2 or any(int(v) != v or int(v) < 1 for v in values):
        raise PrepareError(f"--size must be one positive integer or two (H W), got {size!r}")
    return int(values[0]), int(values[1])


def _open(path, draft_to=None):
    image = Image.open(path)
    if draft_to is not None and image.format == "JPEG":
        height, width = draft_to
        # draft() picks the largest scale reduction that keeps both sides >= the request.
        image.draft(image.mode, (math.ceil(width * DRAFT_MARGIN),
                                 math.ceil(height * DRAFT_MARGIN)))
    image.load()
    return image


def read_image(path, size, draft=True):
    """Reads an image as RGB and resizes it with Pillow's bilinear filter.

    Grey, RGBA, CMYK and palette images are converted to RGB (alpha dropped),
    like ``scipy.misc.imread(..., mode="RGB")`` did for the original code.

    Args:
        path: str or Path. Image file.
        size: tuple of int. Target (height, width).
        draft: bool. Let the JPEG decoder reduce large images while decoding.
            Defaults to True.

    Returns:
        numpy.ndarray, uint8, height x width x 3.
    """
    try:
        image = _open(path, size if draft else None)
        if image.mode != "RGB":
            image = image.convert("RGB")
        image = image.resize((size[1], size[0]), Image.BILINEAR)
    except READ_ERRORS as error:
        raise PrepareError(f"Cannot read image {path}: {error}{_hint(error)}") from error
    return np.asarray(image, dtype=np.uint8)


def read_mask(path, size, reduce=True):
    """Reads a mask as grey (1-, 8- or 24-bit) and resizes it bilinearly.

    The values stay 0..255 with soft edges from the resize, as the original's
    ``imresize`` produced; the loader divides by 255. Masks coded 0/1 instead
    of 0/255 are scaled to 0/255.

    Args:
        path: str or Path. Mask file.
        size: tuple of int. Target (height, width).
        reduce: bool. Box-reduce large masks before the bilinear resize.
            Defaults to True.

    Returns:
        numpy.ndarray, uint8, height x width.
    """
    try:
        mask = _open(path)
        if mask.mode != "L":
            # Mode "1" converts to 0/255; RGB masks hold grey values in each channel.
            mask = mask.convert("L")
        small = _resize_mask(mask, size, reduce)
        # Cheap test on the small result first; the full-size check only when needed.
        if small.max() <= 1 and mask.getextrema()[1] == 1:
            # Deliberate change: the original kept 0/1, near-empty after its mask / 255.
            small = _resize_mask(mask.point(lambda value: 255 * value), size, reduce)
    except READ_ERRORS as error:
        raise PrepareError(f"Cannot read mask {path}: {error}{_hint(error)}") from error
    return small


def _resize_mask(mask, size, reduce=True):
    # reducing_gap: box-reduce huge masks first, keeping >= 1.5x the target.
    gap = DRAFT_MARGIN if reduce else None
    resized = mask.resize((size[1], size[0]), Image.BILINEAR, reducing_gap=gap)
    return np.asarray(resized, dtype=np.uint8)


def read_pair(task):
    """Decodes one ``(index, pair, size, resize)`` task (resize: "fast" or "exact");
    runs in a decoding thread.

    Returns:
        tuple: index, image bytes (H x W x 3) and mask bytes (H x W).
    """
    index, pair, size, resize = task
    fast = resize == "fast"
    image = read_image(pair.image, size, draft=fast)
    mask = read_mask(pair.mask, size, reduce=fast)
    return index, image.tobytes(), mask.tobytes()
