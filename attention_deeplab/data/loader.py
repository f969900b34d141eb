"""Prepared arrays to model inputs: memory-mapped loading, normalisation, batching.

The original loaded whole float64 arrays (about 5.5 GB for ISIC 2018) and
normalised them at once. Here the uint8 arrays stay memory-mapped and each
batch is normalised as it is drawn, so memory does not grow with the dataset.
"""
import mmap
from pathlib import Path

import keras
import numpy as np

from attention_deeplab.data.writer import MANIFEST
from attention_deeplab.datasets import DATASETS
from attention_deeplab.digests import first_damaged
from attention_deeplab.errors import DataError
from attention_deeplab.files import read_json
# Re-exported: training and benchmarks import it from here; it lives apart so that
# ONNX prediction normalises without importing Keras.
from attention_deeplab.normalization import normalize_images  # noqa: F401


def _prepare_hint(data_dir, dataset=None):
    """Names the Prepare script that writes `data_dir`'s arrays."""
    if dataset is None:
        try:
            dataset = read_manifest(data_dir).get("dataset")
        except (OSError, DataError):
            pass
    if dataset in DATASETS:
        return f"run {DATASETS[dataset].prepare_script} --out {data_dir} first"
    return ("run Prepare_ISIC2018.py, Prepare_ISIC2017.py or Prepare_ph2.py "
            f"with --out {data_dir} first")


def read_manifest(data_dir):
    """``split.json`` of a data folder, or {} for older arrays without one.

    Raises:
        DataError: the file exists but is not valid JSON.
    """
    path = Path(data_dir) / MANIFEST
    manifest = read_json(path, error=DataError, hint=": prepare the data again")
    return {} if manifest is None else manifest


def load_split(data_dir, split, dataset=None):
    """Opens one split's images and masks memory-mapped, checking they fit together.

    Args:
        data_dir: str or Path. A folder written by a Prepare script.
        split: str. "train", "val" or "test".
        dataset: str or None. "isic2018", "isic2017" or "ph2", to name the
            Prepare script in errors when `split.json` is absent too.

    Returns:
        (images, masks): read-only arrays, N x H x W x 3 and N x H x W (or
        N x H x W x 1), uint8 as prepared or float64 from older runs.

    Raises:
        DataError: a file is missing, counts or sizes disagree, or a file's sha256 is
            not the one split.json recorded (digests.py).
    """
    data_dir = Path(data_dir)
    arrays = []
    for name in (f"data_{split}.npy", f"mask_{split}.npy"):
        path = data_dir / name
        if not path.is_file():
            raise DataError(f"{path} not found: {_prepare_hint(data_dir, dataset)}")
        try:
            arrays.append(np.load(path, mmap_mode="r"))
        except (OSError, ValueError, EOFError) as error:  # EOFError: an empty file
            raise DataError(f"{path} is damaged or not a .npy array ({error}): "
                            f"{_prepare_hint(data_dir, dataset)}") from error
    images, masks = arrays
    _check_pair(images, masks, data_dir, split)
    # Prepare writes split.json last: uint8 arrays without it are an interrupted
    # run's, possibly a mixture of two sets (legacy float64 arrays never had one).
    if images.dtype == np.uint8 and not (data_dir / MANIFEST).is_file():
        raise DataError(f"{data_dir}/split.json not found, so the arrays there may be "
                        f"from an interrupted run: {_prepare_hint(data_dir, dataset)}")
    damaged = first_damaged([data_dir / f"{kind}_{split}.npy" for kind in ("data", "mask")],
                            read_manifest(data_dir))
    if damaged:
        raise DataError(f"{damaged} is damaged (its sha256 is not the one split.json recorded "
                        f"when it was prepared): {_prepare_hint(data_dir, dataset)}")
    return images, masks


def _check_pair(images, masks, data_dir, split):
    """Raises a DataError naming the files when images and masks disagree."""
    where = f"{data_dir}/data_{split}.npy and mask_{split}.npy"
    if images.ndim != 4 or images.shape[-1] != 3:
        raise DataError(f"{data_dir}/data_{split}.npy has shape {images.shape}, "
                        "expected N x H x W x 3")
    if masks.ndim == 4 and masks.shape[-1] == 1:
        mask_hw = masks.shape[1:3]
    elif masks.ndim == 3:
        mask_hw = masks.shape[1:]
    else:
        raise DataError(f"{data_dir}/mask_{split}.npy has shape {masks.shape}, "
                        "expected N x H x W")
    if len(images) != len(masks):
        raise DataError(f"{where} hold {len(images)} images but {len(masks)} masks")
    if tuple(images.shape[1:3]) != tuple(mask_hw):
        raise DataError(f"{where} differ in size: images {images.shape[1:3]}, "
                        f"masks {tuple(mask_hw)}")
    if len(images) == 0:
        raise DataError(f"{where} are empty: {_prepare_hint(data_dir)}")


def normalize_masks(batch):
    """Masks of 0..255 to float32 0..1 with a channel axis, as the original's `mask / 255`.

    Args:
        batch: array, N x H x W or N x H x W x 1.

    Returns:
        float32 array, N x H x W x 1.
    """
    batch = np.asarray(batch, dtype=np.float32) / np.float32(255.0)
    return batch if batch.ndim == 4 else batch[..., None]


# Pages of a memory map, once read, count in the process's resident set until
# unmapped; dropping them every this many bytes keeps it flat over an epoch
# (bench_train_memory.py --scale 1: 2.13 GiB at 32 MiB, 2.38 GiB at 128 MiB).
RELEASE_BYTES = 32 * 2 ** 20


def release_pages(array):
    """Drops a memory map's pages from this process's resident set (they stay in
    the page cache, so reading them again is cheap). Other arrays: nothing."""
    mapping = getattr(array, "_mmap", None)
    if mapping is not None and hasattr(mmap, "MADV_DONTNEED"):
        mapping.madvise(mmap.MADV_DONTNEED)


def _augment_draw(rng, square):
    """One image's quarter turns and flip."""
    turns = int(rng.integers(4)) if square else 2 * int(rng.integers(2))
    return turns, int(rng.integers(2))


def augment_pair(image, mask, rng):
    """Flips and rotates one image and its mask together by a multiple of 90 degrees.

    Non-square inputs are only rotated by 0 or 180 degrees, which keeps their size.
    """
    turns, flip = _augment_draw(rng, image.shape[0] == image.shape[1])
    image, mask = np.rot90(image, turns), np.rot90(mask, turns)
    if flip:
        image, mask = image[:, ::-1], mask[:, ::-1]
    return image, mask


class ArraySequence(keras.utils.PyDataset):
    """Batches of normalised (image, mask) pairs drawn from memory-mapped arrays.

    A `keras.utils.PyDataset`, so training runs on every Keras backend without
    `tf.data`. The order of each epoch is a permutation seeded by
    `(seed, epoch)`, so a resumed run sees the batches an uninterrupted one
    would; set `epoch` before each epoch.

    Args:
        images: array, N x H x W x 3 (a memory map is read batch by batch).
        masks: array, N x H x W or N x H x W x 1, 0..255.
        batch_size: int. Images per batch; the last batch may be smaller.
        shuffle: bool. Permute the images each epoch. Defaults to False.
        seed: int. Seed of the permutations and augmentations. Defaults to 0.
        augment: bool. Random flips and 90-degree rotations. Defaults to False.
        epoch: int. The epoch whose order is drawn. Defaults to 0.
        limit: int or None. Use only the first `limit` images of each epoch's
            order. Defaults to None (all).
        min_batch: int. Leave out a last batch smaller than this (for
            training: a lone image has no batch statistics). Defaults to 1.
        shard: (int, int). (index, count): this worker's consecutive part of
            each sorted global batch, for training over several workers; the
            parts of all workers make up the batch a single process draws,
            augmentations included. Defaults to (0, 1), the whole batch.
        **kwargs: `workers`, `use_multiprocessing`, `max_queue_size`.
    """

    def __init__(self, images, masks, batch_size, shuffle=False, seed=0,
                 augment=False, epoch=0, limit=None, min_batch=1, shard=(0, 1), **kwargs):
        super().__init__(**kwargs)
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        if batch_size % shard[1] or not 0 <= shard[0] < shard[1]:
            raise ValueError(f"shard {shard} does not split batches of {batch_size}")
        self.shard = tuple(int(i) for i in shard)
        self.images, self.masks = images, masks
        self.batch_size = int(batch_size)
        self.shuffle, self.seed, self.augment = shuffle, int(seed), augment
        self.limit = len(images) if limit is None else min(int(limit), len(images))
        if self.limit > self.batch_size and 0 < self.limit % self.batch_size < min_batch:
            self.limit -= self.limit % self.batch_size
        self.epoch = int(epoch)
        self._bytes_read = 0

    def __len__(self):
        return -(-self.limit // self.batch_size)

    def epoch_order(self, epoch):
        """The image indices of `epoch` in the order they are drawn."""
        if not self.shuffle:
            return np.arange(len(self.images))[: self.limit]
        rng = np.random.default_rng([self.seed, int(epoch)])
        return rng.permutation(len(self.images))[: self.limit]

    def batch_indices(self, index):
        """The image indices of batch `index` of the current epoch (all shards)."""
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} out of range 0..{len(self) - 1}")
        start = index * self.batch_size
        return self.epoch_order(self.epoch)[start:start + self.batch_size]

    def shard_indices(self, index):
        """The sorted image indices of this shard of batch `index`, and the
        position of the first in the whole sorted batch."""
        # Sorted reads are sequential on the memory map; the order inside a
        # batch does not matter to the gradient.
        ordered = np.sort(self.batch_indices(index))
        part, count = self.shard
        size = -(-len(ordered) // count)
        return ordered[part * size:(part + 1) * size], part * size

    def __getitem__(self, index):
        ordered, first = self.shard_indices(index)
        images, masks = self.images[ordered], self.masks[ordered]
        self._bytes_read += images.nbytes + masks.nbytes
        if self._bytes_read > RELEASE_BYTES:
            release_pages(self.images), release_pages(self.masks)
            self._bytes_read = 0
        if self.augment:
            rng = np.random.default_rng([self.seed, self.epoch, int(index), 1])
            # The draws of the images before this shard's, so that a shard
            # augments its images as one process would.
            for _ in range(first):
                _augment_draw(rng, images.shape[1] == images.shape[2])
            pairs = [augment_pair(i, m, rng) for i, m in zip(images, masks)]
            images = np.stack([p[0] for p in pairs])
            masks = np.stack([p[1] for p in pairs])
        return normalize_images(images), normalize_masks(masks)
