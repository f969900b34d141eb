"""Prepared arrays without the image pipeline: one dark disc per image, the disc as mask.

For tests, benchmarks and smoke runs that need a data folder of a given size
and count in milliseconds; the Prepare scripts and the synthetic generator
(`synthetic.py`) remain the way to realistic data.
"""
import json
from pathlib import Path

import numpy as np

from attention_deeplab.data.writer import MANIFEST


def write_disc_arrays(folder, counts=None, size=32, seed=0, dataset="isic2018", dtype=np.uint8,
                      fingerprint=None):
    """Writes data_/mask_<split>.npy and a split.json, row by row (never whole in memory).

    Args:
        folder: str or Path. Created if missing.
        counts: dict or None. Images per split. Defaults to {"train": 12, "val": 4}.
        size: int. Side of the square images. Defaults to 32.
        seed: int. Seed of the discs and the noise. Defaults to 0.
        dataset: str. split.json's "dataset". Defaults to "isic2018".
        dtype: numpy dtype. Of both arrays (float64 mimics the original's). Defaults to uint8.
        fingerprint: str or None. split.json's fingerprint; defaults to one made of the
            arguments, so that two different sets never share one.

    Returns:
        Path: the folder.
    """
    counts = counts or {"train": 12, "val": 4}
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    for split, count in counts.items():
        images = np.lib.format.open_memmap(folder / f"data_{split}.npy", "w+", dtype,
                                           (count, size, size, 3))
        masks = np.lib.format.open_memmap(folder / f"mask_{split}.npy", "w+", dtype,
                                          (count, size, size))
        for i in range(count):
            cy, cx = rng.integers(size // 4, 3 * size // 4, 2)
            disc = (yy - cy) ** 2 + (xx - cx) ** 2 < rng.integers(size // 8, size // 4) ** 2
            image = rng.normal(180, 15, (size, size, 3))
            image[disc] -= 110
            images[i], masks[i] = np.clip(image, 0, 255), disc * 255
        images.flush(), masks.flush()
        del images, masks
    if fingerprint is None:
        fingerprint = f"discs-{'-'.join(f'{k}{v}' for k, v in counts.items())}-{size}-{seed}"
    # What Prepare writes last; the loader refuses uint8 arrays without it.
    (folder / MANIFEST).write_text(json.dumps({"dataset": dataset, "fingerprint": fingerprint}))
    return folder
