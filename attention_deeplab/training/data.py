"""The data a run trains on: the train and val splits, checked, and their fingerprint."""
import hashlib
from pathlib import Path

import numpy as np

from attention_deeplab.data.loader import load_split, read_manifest
from attention_deeplab.errors import DataError, TrainingError


def load_training_data(data_dir, batch_size, dataset=None):
    """The train and val splits, memory-mapped, checked against each other and the batch.

    Returns:
        dict: "train" and "val" mapped to (images, masks).
    """
    try:
        splits = {split: load_split(data_dir, split, dataset) for split in ("train", "val")}
    except DataError as error:
        raise TrainingError(str(error)) from error
    train_hw, val_hw = splits["train"][0].shape[1:3], splits["val"][0].shape[1:3]
    if train_hw != val_hw:
        raise TrainingError(f"{data_dir}: training images are {train_hw[0]}x{train_hw[1]} "
                            f"but validation images {val_hw[0]}x{val_hw[1]}")
    if batch_size < 2:
        raise TrainingError(f"--batch-size must be at least 2 (batch norm needs the "
                            f"statistics of a batch), got {batch_size}")
    count = len(splits["train"][0])
    if batch_size > count:
        raise TrainingError(f"--batch-size {batch_size} is larger than the training set "
                            f"({count} images in {Path(data_dir) / 'data_train.npy'})")
    return splits


def data_fingerprint(data_dir, splits):
    """The fingerprint of `split.json`, or for older arrays without one a hash of
    their shapes, dtypes and first and last images."""
    try:
        fingerprint = read_manifest(data_dir).get("fingerprint")
    except DataError as error:
        raise TrainingError(str(error)) from error
    if fingerprint:
        return fingerprint
    digest = hashlib.sha256()
    for name in sorted(splits):
        for array in splits[name]:
            digest.update(f"{name}{array.shape}{array.dtype}".encode())
            digest.update(np.ascontiguousarray(array[0]).tobytes())
            digest.update(np.ascontiguousarray(array[-1]).tobytes())
    return "arrays:" + digest.hexdigest()


def data_resize(data_dir):
    """How Prepare resized the data ("fast" or "exact"), None for manifests made before
    split.json recorded it (those were "fast") or arrays without one."""
    try:
        return read_manifest(data_dir).get("resize")
    except DataError as error:
        raise TrainingError(str(error)) from error
