"""Reading Keras-2 (legacy) HDF5 weight files, and matching them to a model.

(The tests write such files with tests/support/keras2_files.py.)

Layout: root attribute `layer_names`; one group per layer with attribute
`weight_names` (e.g. `conv2d_22/kernel:0`); one dataset per weight at
`<layer>/<weight_name>`. Whole-model files hold the same inside `model_weights`.
"""
import json
import os
import warnings

import h5py
import numpy as np


def _text(value):
    return value.decode("utf8") if isinstance(value, bytes) else str(value)


def read_keras2_layers(path):
    """Reads the layers that hold weights, in file order.

    Args:
        path: str or PathLike. A Keras-2 HDF5 file, weights-only or whole-model.

    Returns:
        A list of `(layer_name, [(weight_name, array), ...])`, weights in storage order.
    """
    layers = []
    with h5py.File(os.fspath(path), "r") as f:
        root = f["model_weights"] if "model_weights" in f else f
        for name in (_text(n) for n in root.attrs["layer_names"]):
            if name not in root:
                raise ValueError(f"weights file {os.fspath(path)!r}: layer {name!r} is listed "
                                 "in layer_names but has no group")
            group = root[name]
            weight_names = [_text(w) for w in group.attrs.get("weight_names", [])]
            if weight_names:
                layers.append((name, [(w, np.asarray(group[w])) for w in weight_names]))
    return layers


def weighted_layers(model):
    """The model's layers that hold weights, in `model.layers` order."""
    return [layer for layer in model.layers if layer.weights]


def describe_layer(layer):
    """`name (Class) [shapes]` of a model layer, for error messages."""
    shapes = [tuple(v.shape) for v in layer.weights]
    return f"{layer.name} ({type(layer).__name__}) {shapes}"


def match_by_order(model_layers, file_layers):
    """Pairs the file's weighted layers with the model's by position.

    Args:
        model_layers: list of keras layers with weights, in order.
        file_layers: list as returned by `read_keras2_layers`.

    Returns:
        `(assignments, None)` when every layer fits, `assignments` being a list of
        `(layer, arrays)`; otherwise `(None, reason)`, `reason` naming the first
        layer that does not fit.
    """
    assignments = []
    for index, (layer, (name, weights)) in enumerate(zip(model_layers, file_layers)):
        expected = [tuple(v.shape) for v in layer.weights]
        found = [tuple(a.shape) for _, a in weights]
        if expected != found:
            return None, (f"weighted layer #{index}: file layer {name!r} has shapes {found}, "
                          f"model layer {describe_layer(layer)}")
        assignments.append((layer, [a for _, a in weights]))
    if len(model_layers) != len(file_layers):
        return None, (f"the file has {len(file_layers)} layers with weights, the model "
                      f"{len(model_layers)}")
    return assignments, None


def load_by_name(model, file_layers, path, order_misfit=None):
    """Pairs the file's weighted layers with the model's by layer name.

    Layers named in both must have the same shapes; model layers absent from the
    file keep their weights (one warning gives their count); no name in common is
    an error.

    Args:
        model: keras.Model. The target.
        file_layers: list as returned by `read_keras2_layers`.
        path: str. The file, for messages.
        order_misfit: str or None. Why loading by order failed, for messages.

    Returns:
        A list of `(layer, arrays)` to assign.
    """
    by_name = dict(file_layers)
    own = weighted_layers(model)
    why_not_order = f" (not loadable by order either: {order_misfit})" if order_misfit else ""
    common = [layer for layer in own if layer.name in by_name]
    if not common:
        raise ValueError(f"weights file {path!r} has no layer name in common with the model "
                         f"{model.name!r}{why_not_order}")
    assignments = []
    for layer in common:
        found = [tuple(a.shape) for _, a in by_name[layer.name]]
        if found != [tuple(v.shape) for v in layer.weights]:
            raise ValueError(f"weights file {path!r}: layer {layer.name!r} has shapes {found} "
                             f"in the file, the model's is {describe_layer(layer)}"
                             f"{why_not_order}")
        assignments.append((layer, [a for _, a in by_name[layer.name]]))
    missing = [layer.name for layer in own if layer.name not in by_name]
    if missing:
        warnings.warn(f"weights file {path!r} loaded by name: {len(missing)} of the model's "
                      f"{len(own)} layers with weights are absent from it and keep their "
                      f"initial weights (first: {missing[:3]})", stacklevel=3)
    return assignments


def saved_input_shape(path):
    """The input shape stored in a Keras-2 whole-model file, or None.

    Args:
        path: str or PathLike. A Keras-2 HDF5 file.

    Returns:
        A tuple `(height, width, channels)`, or None for weights-only files or
        configurations without a readable input shape.
    """
    with h5py.File(os.fspath(path), "r") as f:
        raw = f.attrs.get("model_config")
    if raw is None:
        return None
    try:
        config = json.loads(_text(raw))["config"]
        shape = config["layers"][0]["config"]["batch_input_shape"]
        return tuple(int(s) for s in shape[1:])
    except (KeyError, IndexError, TypeError, ValueError):
        return None
