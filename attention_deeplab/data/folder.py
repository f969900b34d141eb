"""Any flat folder of images beside a flat folder of masks (``Prepare_Folder.py``).

Images and masks pair by file stem; a mask's stem may carry a suffix
(``_segmentation`` as in ISIC, ``_lesion`` as in PH2, ``_mask``, any other given
with ``--mask-suffix``, or none). Files may be JPEG, PNG, BMP or TIFF, in any mix.
"""
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from attention_deeplab.data.image_files import READ_ERRORS
from attention_deeplab.data.pairs import Pair, match_pairs, require_folder
from attention_deeplab.errors import PrepareError

EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")
# Tried in this order when --mask-suffix is absent; "" is a mask named as its image.
MASK_SUFFIXES = ("_segmentation", "_lesion", "_mask", "")
EXPECTED = ("  --images DIR: ID.jpg, ID.png, ID.bmp, ID.tif ... (any mix)\n"
            "  --masks DIR:  ID.png or ID_segmentation.png, ID_lesion.bmp, ID_mask.png ...")


@dataclass(frozen=True)
class CheckedPair(Pair):
    """A pair whose two files were opened: ``size`` is their (height, width)."""

    size: tuple = ()


def _files(folder, what):
    """Stem -> path of the image files directly in ``folder`` (hidden files skipped)."""
    folder = require_folder(folder, EXPECTED)
    found = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.suffix.lower() not in EXTENSIONS:
            continue
        if path.stem in found:
            raise PrepareError(f"Two {what} named {path.stem}: {found[path.stem]} and {path}. "
                               "Keep one.")
        found[path.stem] = path
    if not found:
        raise PrepareError(f"No {what} ({', '.join(EXTENSIONS)}) in {folder}. "
                           f"Expected:\n{EXPECTED}")
    return found


def _strip(stem, suffix):
    return stem[: len(stem) - len(suffix)] if stem.endswith(suffix) else None


def detect_suffix(image_stems, mask_stems, given=None):
    """The suffix that turns mask stems into image stems: ``given``, or the one that fits.

    A suffix fits when stripping it from some mask stem gives an image stem.

    Raises:
        PrepareError: none fits, or several do (the message lists them with their
            counts); ``--mask-suffix`` settles it.
    """
    if given is not None:
        return given
    images = set(image_stems)
    fits = {suffix: sum(_strip(stem, suffix) in images for stem in mask_stems)
            for suffix in MASK_SUFFIXES}
    fits = {suffix: count for suffix, count in fits.items() if count}
    listed = ", ".join(f"{suffix or 'none'!r} ({count} masks)" for suffix, count in fits.items())
    if len(fits) == 1:
        return next(iter(fits))
    if not fits:
        raise PrepareError(
            "No mask name is an image's name with a suffix of "
            + ", ".join(repr(s) for s in MASK_SUFFIXES if s) + " or none, e.g. "
            + f"{sorted(mask_stems)[0]!r} vs {sorted(images)[0]!r}: pass --mask-suffix")
    raise PrepareError(f"Ambiguous mask suffix, several fit: {listed}. "
                       "Pass --mask-suffix with one of them ('' for none).")


def _header_size(path, what, decode=False):
    """(height, width) from the file's header; a named error when it is not an image, or
    with ``decode`` when its pixels cannot be read (a JPEG decoded at 1/8, for speed)."""
    try:
        with Image.open(path) as image:
            size = image.height, image.width
            if decode:
                image.draft(image.mode, (1, 1))
                image.load()
            return size
    except READ_ERRORS as error:
        raise PrepareError(f"Cannot read {what} {path}: {error}") from error


def _checked(pair, decode=False):
    """The pair with its size; a named error when a file is unreadable or the sizes differ."""
    size = _header_size(pair.image, "image", decode)
    mask_size = _header_size(pair.mask, "mask", decode)
    if size != mask_size:
        raise PrepareError(f"Image {pair.image} is {size[1]}x{size[0]} but its mask "
                           f"{pair.mask} is {mask_size[1]}x{mask_size[0]} (width x height)")
    return CheckedPair(pair.id, pair.image, pair.mask, size)


def find_folder_pairs(images_dir, masks_dir, mask_suffix=None, skip_unpaired=False,
                      warn=print):
    """The sorted, checked image/mask pairs of two flat folders.

    Args:
        images_dir, masks_dir: str or Path. The two folders.
        mask_suffix: str or None. What mask stems add to image stems ("" for
            nothing); None detects it (see ``detect_suffix``).
        skip_unpaired: bool. Leave out, and report, unpaired files and pairs that
            are unreadable or of two sizes, instead of failing. Defaults to False.
        warn: callable. Receives the report of skipped files. Defaults to print.

    Returns:
        list of CheckedPair, sorted by id.

    Raises:
        PrepareError: the folders, the suffix or (without skip_unpaired) a pair is unusable.
    """
    if Path(images_dir).resolve() == Path(masks_dir).resolve():
        raise PrepareError(f"--images and --masks are the same folder ({images_dir}): "
                           "put the masks in a folder of their own")
    images = _files(images_dir, "images")
    masks = _files(masks_dir, "masks")
    suffix = detect_suffix(images, masks, mask_suffix)
    # A mask without the suffix pairs with nothing: keyed by its file name, it is reported.
    by_id = {_strip(stem, suffix) or path.name: path for stem, path in masks.items()}
    checked, bad = [], []
    for pair in match_pairs(images, by_id, skip_unpaired=skip_unpaired, warn=warn):
        try:
            # Skipping needs every bad file found before the split: decode them all then.
            checked.append(_checked(pair, decode=skip_unpaired))
        except PrepareError as error:
            if not skip_unpaired:
                raise PrepareError(f"{error}. Fix the pair or pass --skip-unpaired.") from None
            bad.append(str(error))
    if bad:
        warn(f"Skipping {len(bad)} unusable pair(s) (--skip-unpaired): " + "; ".join(bad))
    return checked
