"""Writing weight files in the Keras-2 HDF5 layout of the authors' checkpoints, for tests.

Layout: root attribute `layer_names`; one group per layer with attribute
`weight_names` (e.g. `conv2d_22/kernel:0`); one dataset per weight at
`<layer>/<weight_name>`. Whole-model files hold the same inside `model_weights`.
"""
import os

import h5py
import numpy as np

from attention_deeplab.model.keras2_h5 import weighted_layers


def write_keras2_h5(path, layers, whole_model=False, keras_version="2.2.4"):
    """Writes weights in the Keras-2 HDF5 layout of the authors' checkpoints.

    Args:
        path: str or PathLike. Output file (no extension needed).
        layers: list of `(layer_name, [(weight_name, array), ...])`; weight names
            are stored as `<layer_name>/<weight_name>:0`.
        whole_model: bool. Nest everything under `model_weights`, as a whole-model
            save does. Defaults to False.
        keras_version: str. Value of the `keras_version` attribute. Defaults to
            "2.2.4".
    """
    with h5py.File(os.fspath(path), "w") as f:
        root = f.create_group("model_weights") if whole_model else f
        root.attrs["layer_names"] = np.array([n.encode("utf8") for n, _ in layers])
        root.attrs["backend"] = b"tensorflow"
        root.attrs["keras_version"] = keras_version.encode("utf8")
        for name, weights in layers:
            group = root.create_group(name)
            full = [f"{name}/{w}:0" for w, _ in weights]
            group.attrs["weight_names"] = np.array([w.encode("utf8") for w in full])
            for weight_name, (_, array) in zip(full, weights):
                group.create_dataset(weight_name, data=np.asarray(array))
        if whole_model:
            f.attrs["keras_version"] = keras_version.encode("utf8")
            f.attrs["backend"] = b"tensorflow"


def model_as_keras2_layers(model):
    """A model's weights as `write_keras2_h5` takes them, under the model's layer names.

    Args:
        model: keras.Model.

    Returns:
        A list of `(layer_name, [(weight_name, array), ...])` in `model.layers` order.
    """
    return [(layer.name, [(v.name.split("/")[-1], v.numpy()) for v in layer.weights])
            for layer in weighted_layers(model)]
