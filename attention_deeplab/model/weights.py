"""Loading weights into the model from three formats, told apart by content.

1. This project's checkpoints: Keras 3 `.weights.h5` files or `.keras` archives.
2. The authors' Keras-2 HDF5 checkpoints (weights-only or whole-model, usually
   without an extension), loaded by order: their auto-generated layer names
   (`conv2d_22`, `dense_1`) differ between Keras versions, their order does not.
   Tested with files of this format written from the weights of a probe whose output
   the original network's own code computed (tests/fixtures/original_checkpoint/),
   not with a checkpoint released by the authors.
3. The Deeplabv3+ PASCAL VOC start (bonlime/keras-deeplab-v3-plus release 1.1),
   also Keras-2 HDF5, loaded by layer name as the original did.
Nothing is loaded half-way: on any error the model keeps the weights it had.
"""
import contextlib
import os
import shutil
import tempfile
import warnings
import zipfile

import h5py
import keras

from attention_deeplab.digests import check_weights_digest
from attention_deeplab.errors import WeightsFileError
from attention_deeplab.model.keras2_h5 import (
    describe_layer, load_by_name, match_by_order, read_keras2_layers, weighted_layers)

PASCAL_VOC_FILE = "deeplabv3_xception_tf_dim_ordering_tf_kernels.h5"
PASCAL_VOC_URL = ("https://github.com/bonlime/keras-deeplab-v3-plus/releases/download/1.1/"
                  + PASCAL_VOC_FILE)
# What h5py, zipfile and Keras raise on a truncated or corrupted file.
READ_FAILURES = (OSError, EOFError, KeyError, zipfile.BadZipFile)


def detect_format(path):
    """Tells a weights file's format from its content, not its name.

    Args:
        path: str or PathLike. The file.

    Returns:
        `"keras"` (a Keras 3 `.keras` archive), `"keras3_h5"` (a Keras 3
        `.weights.h5`) or `"keras2_h5"` (a Keras-2 HDF5 checkpoint).
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"weights file {path!r} does not exist")
    if zipfile.is_zipfile(path):
        return "keras"
    if not h5py.is_hdf5(path):
        raise WeightsFileError(path, "neither HDF5 nor a .keras archive")
    try:
        with h5py.File(path, "r") as f:
            root = f["model_weights"] if "model_weights" in f else f
            if "layer_names" in root.attrs:
                return "keras2_h5"
            if "layers" in f and isinstance(f["layers"], h5py.Group):
                return "keras3_h5"
    except READ_FAILURES as error:
        raise WeightsFileError(path, error) from error
    raise WeightsFileError(path, "HDF5 of an unknown layout: neither Keras 3 `layers/` "
                           "groups nor a Keras-2 `layer_names` attribute")


def load_weights_into(model, path):
    """Loads a weights file into `model`, whichever of the three formats it is.

    Keras-2 files are loaded by order when their weighted layers match the model's
    in order and shape (the authors' checkpoints). A Keras-2 Attention Deeplabv3+
    checkpoint that does not (another variant) is an error naming the first
    misfit; any other Keras-2 file (the PASCAL VOC start) is loaded by name.

    Args:
        model: keras.Model. Built by `Deeplabv3pa` with the file's options.
        path: str or PathLike. A `.keras`, `.weights.h5` or Keras-2 HDF5 file, with
            or without an extension.

    Returns:
        The name of the format that was loaded (see `detect_format`), and for
        Keras-2 files how: `"keras2_h5:order"` or `"keras2_h5:name"`.
    """
    path = os.fspath(path)
    kind = detect_format(path)
    if kind == "keras3_h5":
        check_weights_digest(path)  # a run's best weights record their values' sha256
    with _all_or_nothing(model, path):
        if kind == "keras2_h5":
            return f"{kind}:{_load_keras2(model, path)}"
        _load_keras3(model, path, kind)
        return kind


@contextlib.contextmanager
def _all_or_nothing(model, path):
    """Restores the model's weights as they were if loading fails part-way; a read
    failure of the file (truncated, corrupted) becomes a `WeightsFileError` naming it."""
    snapshot = [v.numpy() for v in model.weights]
    try:
        yield
    except Exception as error:
        for variable, value in zip(model.weights, snapshot):
            variable.assign(value)
        if isinstance(error, READ_FAILURES):
            raise WeightsFileError(path, error) from error
        raise


def _load_keras2(model, path):
    file_layers = read_keras2_layers(path)
    assignments, misfit = match_by_order(weighted_layers(model), file_layers)
    if assignments is None and _holds_attention_head(file_layers):
        raise ValueError(f"weights file {path!r} is an Attention Deeplabv3+ checkpoint that "
                         f"does not fit the model {model.name!r} (built with other options: "
                         f"preset, attention, output stride?): {misfit}")
    if assignments is None:
        assignments = load_by_name(model, file_layers, path, order_misfit=misfit)
        mode = "name"
    else:
        mode = "order"
    for layer, arrays in assignments:
        layer.set_weights(arrays)
    return mode


def _holds_attention_head(file_layers):
    """Whether a Keras-2 file holds a 5-D kernel: the multi-level attention's Conv3D,
    which only an Attention Deeplabv3+ checkpoint has (not the PASCAL VOC start)."""
    return any(len(array.shape) == 5 for _, weights in file_layers for _, array in weights)


def _load_keras3(model, path, kind):
    suffix = ".keras" if kind == "keras" else ".weights.h5"
    with tempfile.TemporaryDirectory() as tmp:
        if not path.endswith(suffix):  # Keras 3 insists on the extension
            target = os.path.join(tmp, "weights" + suffix)
            shutil.copyfile(path, target)
            path_to_load = target
        else:
            path_to_load = path
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                model.load_weights(path_to_load)
            except ValueError as error:
                raise ValueError(f"weights file {path!r} does not fit the model "
                                 f"{model.name!r}: {error}") from None
    for item in caught:
        message = str(item.message)
        if "Skipping nested container" in message or "could not be loaded" in message:
            raise ValueError(f"weights file {path!r} does not fit the model {model.name!r} "
                             f"(built with other options?): {message}")
        if "optimizer" not in message and "copy keyword" not in message:
            warnings.warn(message, stacklevel=3)


def fetch_pascal_voc():
    """Downloads (or finds in the Keras cache) the Deeplabv3+ PASCAL VOC weights.

    Returns:
        The local path of `deeplabv3_xception_tf_dim_ordering_tf_kernels.h5`.
    """
    try:
        return keras.utils.get_file(PASCAL_VOC_FILE, PASCAL_VOC_URL, cache_subdir="models")
    except Exception as error:  # no network, proxy, HTTP error: all end the same way
        raise RuntimeError(
            f"could not download the PASCAL VOC weights {PASCAL_VOC_FILE} from "
            f"{PASCAL_VOC_URL} (no network?): {error}. Pass weights=None to start from "
            f"random weights, or weights='/local/path/{PASCAL_VOC_FILE}' to load a local "
            "copy of that file.") from error


def load_pascal_voc(model, path=None):
    """Loads the PASCAL VOC start by layer name, as the original `Deeplabv3pa` did.

    Args:
        model: keras.Model. The full network (the reduced preset cannot take it).
        path: str, PathLike or None. A local copy of the file; None fetches it
            with `keras.utils.get_file`. Defaults to None.
    """
    path = fetch_pascal_voc() if path is None else os.fspath(path)
    if detect_format(path) != "keras2_h5":
        raise ValueError(f"PASCAL VOC weights {path!r} are not a Keras-2 HDF5 file")
    with _all_or_nothing(model, path):
        for layer, arrays in load_by_name(model, read_keras2_layers(path), path):
            layer.set_weights(arrays)


__all__ = ["PASCAL_VOC_FILE", "PASCAL_VOC_URL", "WeightsFileError", "describe_layer",
           "detect_format", "fetch_pascal_voc", "load_pascal_voc", "load_weights_into"]
