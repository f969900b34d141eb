"""Segment new images at their own resolution: masks, overlays and a CSV of lesion measures.

Called by ``Predict_Skin.py``. Images stream through the model in batches: only
one batch of originals is held at a time, and the CSV is written row by row,
so memory does not grow with the number of images.
"""
import csv
import glob
from pathlib import Path

import numpy as np
from PIL import Image

from attention_deeplab.inference import overlays
from attention_deeplab.inference.arrays import (model_input_size, predict_batch, resize_image,
                                                resize_probabilities)

# As data.image_files.READ_ERRORS, repeated: importing the data package would pull in
# tqdm and the Prepare code, which ONNX prediction (numpy and Pillow only) lacks.
READ_ERRORS = (OSError, SyntaxError, ValueError, Image.DecompressionBombError)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")
CSV_COLUMNS = ("file", "mask", "width", "height", "lesion_pixels", "lesion_fraction",
               "bbox_left", "bbox_top", "bbox_right", "bbox_bottom", "mean_probability")


def expand_inputs(inputs):
    """Image files from files, folders (their images, not recursive) and glob patterns.

    A file named explicitly is kept whatever its suffix (a non-image then fails
    when read, and is reported). ``**`` in a pattern recurses.

    Returns:
        (paths, unmatched): sorted unique image paths per input in order, and
        the inputs that named nothing.
    """
    paths, unmatched, seen = [], [], set()
    for entry in inputs:
        entry_path = Path(entry)
        if entry_path.is_dir():
            found = sorted(p for p in entry_path.iterdir()
                           if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        elif entry_path.is_file():
            found = [entry_path]
        else:
            found = sorted(Path(p) for p in glob.glob(str(entry), recursive=True)
                           if Path(p).is_file() and Path(p).suffix.lower() in IMAGE_SUFFIXES)
        if not found:
            unmatched.append(str(entry))
        for path in found:
            if path.resolve() not in seen:
                seen.add(path.resolve())
                paths.append(path)
    return paths, unmatched


def read_input(path, size):
    """An image file as RGB at its own size and resized to the model's (height, width).

    Raises:
        ValueError: the file cannot be read as an image (the message names it).
    """
    try:
        with Image.open(path) as image:
            image.load()
            rgb = image.convert("RGB")  # grey, RGBA (alpha dropped), palette, CMYK
    except READ_ERRORS as error:
        raise ValueError(f"{path}: not a readable image ({error})") from error
    # np.array copies into numpy-owned memory, so the caller may drop the PIL image at once.
    return np.array(rgb, dtype=np.uint8), resize_image(rgb, size)


def postprocess(mask, keep_largest=False, fill_holes=False):
    """Keeps the largest connected component and/or fills holes of a boolean mask."""
    if keep_largest or fill_holes:
        from scipy import ndimage  # only these options need scipy (not in ONNX's requirements)
    if keep_largest and mask.any():
        labels, count = ndimage.label(mask)
        if count > 1:
            sizes = np.bincount(labels.ravel())
            sizes[0] = 0
            mask = labels == int(np.argmax(sizes))
    if fill_holes:
        mask = ndimage.binary_fill_holes(mask)
    return mask


def lesion_measures(mask, probabilities):
    """Area (pixels and fraction), inclusive bounding box and mean probability inside the mask."""
    area = int(np.count_nonzero(mask))
    row = {"width": mask.shape[1], "height": mask.shape[0], "lesion_pixels": area,
           "lesion_fraction": f"{area / mask.size:.6f}"}
    if area:
        rows, columns = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        row.update(bbox_left=int(columns[0]), bbox_top=int(rows[0]), bbox_right=int(columns[-1]),
                   bbox_bottom=int(rows[-1]),
                   mean_probability=f"{float(probabilities[mask].mean()):.6f}")
    return row


def unique_stem(path, used):
    """The file's stem, with ``_2``, ``_3``... when another input already had it."""
    stem, number = path.stem, 1
    while stem.lower() in used:
        number += 1
        stem = f"{path.stem}_{number}"
    used.add(stem.lower())
    return stem


def _write_batch(batch, probabilities, out, writer, options):
    """Masks, overlays and CSV rows of one predicted batch."""
    for (path, stem, original), probability in zip(batch, probabilities):
        full = resize_probabilities(probability, original.shape[:2])
        mask = postprocess(full > options["threshold"], options["keep_largest"],
                           options["fill_holes"])
        overlays.save_mask(mask, out / f"{stem}_mask.png")
        overlays.save_overlay(original, out / f"{stem}_overlay.png", prediction=mask)
        writer.writerow({"file": str(path), "mask": f"{stem}_mask.png",
                         **lesion_measures(mask, full)})


def _progress_bar(total, progress):
    """A tqdm bar, or a silent stand-in where tqdm is absent (an ONNX-only install)."""
    try:
        from tqdm import tqdm
    except ImportError:
        progress = False
    if progress:
        return tqdm(total=total, unit="image")
    return _SilentBar()


class _SilentBar:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n):
        pass

    def write(self, text):
        print(text)


def predict_images(inputs, out, run_dir=None, weights=None, threshold=0.5, tta=False,
                   keep_largest=False, fill_holes=False, batch_size=8, preset=None,
                   attention=None, output_stride=None, model=None, progress=True):
    """Segments image files and writes their masks, overlays and predictions.csv.

    Args:
        inputs: list of str. Image files, folders or glob patterns.
        out: str or Path. Output folder (created).
        run_dir: str, Path, list of them, or None. Training run folder; several:
            their ensemble (the mean probability, see ``inference/ensemble.py``).
        weights: str, Path or None. Weights file (default: the run's best).
        threshold: float. Lesion where the probability is strictly above it.
        tta: bool. Average the identity and the two flips.
        keep_largest: bool. Keep only the largest connected component.
        fill_holes: bool. Fill holes in the mask.
        batch_size: int. Images per forward pass. Defaults to 8.
        preset, attention, output_stride: model option overrides.
        model: keras.Model or None. An already loaded model (notebooks, tests).
        progress: bool. Show a progress bar.

    Returns:
        dict: n_images (segmented), n_failed, failed (list of (input, reason)), out.
    """
    if not 0 <= float(threshold) < 1:
        raise ValueError(f"--threshold must be a number in [0, 1), got {threshold!r}")
    if batch_size < 1:
        raise ValueError(f"--batch-size must be at least 1, got {batch_size}")
    paths, unmatched = expand_inputs(inputs)
    failed = [(entry, "no such file, or no image matches it") for entry in unmatched]
    if model is None:
        # Imported here: ONNX prediction (numpy and Pillow only) never builds a Keras model.
        from attention_deeplab.inference.ensemble import load_predictor

        model = load_predictor(run_dir, weights, preset=preset, attention=attention,
                               output_stride=output_stride)
    size = model_input_size(model)
    out = overlays.ensure_dir(out)
    options = {"threshold": float(threshold), "keep_largest": keep_largest,
               "fill_holes": fill_holes}
    used, done = set(), 0
    with open(out / "predictions.csv", "w", newline="") as stream, \
            _progress_bar(len(paths), progress) as bar:
        writer = csv.DictWriter(stream, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        batch, inputs_batch = [], []
        for index, path in enumerate(paths):
            try:
                original, resized = read_input(path, size)
                batch.append((path, unique_stem(path, used), original))
                inputs_batch.append(resized)
            except ValueError as error:
                failed.append((str(path), str(error)))
                bar.write(f"skipped {error}")
            if batch and (len(batch) == batch_size or index == len(paths) - 1):
                probabilities = predict_batch(model, np.stack(inputs_batch), tta=tta,
                                              pad_to=min(batch_size, len(paths)))
                _write_batch(batch, probabilities, out, writer, options)
                done += len(batch)
                batch, inputs_batch = [], []
            bar.update(1)
    return {"n_images": done, "n_failed": len(failed), "failed": failed, "out": str(out)}
