"""A run's resolved configuration: the data it reads and every option it trains with."""
import hashlib
import platform
from pathlib import Path

import keras
import numpy as np

import attention_deeplab
from attention_deeplab.data.loader import DataError, load_split, read_manifest
from attention_deeplab.training.run_folder import TrainingError

# The original recipe (Azad et al. 2020, and its training script).
LR_SCHEDULE = {"monitor": "val_loss", "factor": 0.1, "patience": 7, "min_delta": 1e-4}


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


def versions():
    """Versions of what the run's numbers depend on."""
    backend = keras.backend.backend()
    found = {"python": platform.python_version(), "numpy": np.__version__,
             "keras": keras.__version__, "backend": backend,
             "attention_deeplab": attention_deeplab.__version__}
    module = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}.get(backend)
    if module:
        found[module] = __import__(module).__version__
    return found


def resolve_precise_bn(precise_bn, backbone_weights, init_weights):
    """`auto` is on when the backbone starts from scratch, where the moving
    averages lag (see precise_bn.py); with pretrained weights it is the original's off."""
    if precise_bn in (True, "on"):
        return True
    if precise_bn in (False, "off"):
        return False
    if precise_bn != "auto":
        raise TrainingError(f"--precise-bn must be on, off or auto, got {precise_bn!r}")
    return backbone_weights is None and init_weights is None


def build_config(options, splits, data_dir, settings):
    """The dict written to config.json: every resolved option, data and versions.

    Args:
        options: dict. The model options.
        splits: dict. From `load_training_data`.
        data_dir: Path. The data folder.
        settings: dict. The training options as resolved by `train`.
    """
    return {"model": options, "data_dir": str(Path(data_dir).resolve()),
            "data_fingerprint": data_fingerprint(data_dir, splits),
            "data_resize": data_resize(data_dir),
            "sizes": {name: int(len(pair[0])) for name, pair in splits.items()},
            "optimizer": "adam", "loss": "binary_crossentropy",
            "lr_schedule": dict(LR_SCHEDULE), "checkpoint": "best val_loss",
            **settings, "versions": versions()}
