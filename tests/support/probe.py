"""The numeric probe of tests/fixtures/original_checkpoint: a checkpoint in the
authors' format filled by the fixture's formula, so any installation can check
that its network is the original one (the model tests and the backend suite do).
"""
import json
import os
from pathlib import Path

import numpy as np

from tests.support.keras2_files import write_keras2_h5

# weight name -> (offset, scale) of the fixture README's formula offset + scale * s
_AFFINE = {"gamma": (1.0, 0.1), "beta": (0.0, 0.1), "moving_mean": (0.0, 0.05), "bias": (0.0, 0.01)}
LAST_KERNEL_SCALE = 3000  # the final 1x1 conv's kernel, so the probe's output is not flat
# What the README claims and every backend is held to: float32 rounding through the
# network; measured 1.8e-6 (JAX) to 3.5e-6 (TensorFlow) on a 2-core x86-64 CPU.
PROBE_BOUND = 1e-5


def probe_value(name, shape, k, last_layer):
    """Value of weight tensor number `k` (file order) by the fixture's formula.

    Args:
        name: str. The weight's name (`kernel`, `gamma`, ...).
        shape: sequence of int. Its shape.
        k: int. Its index among all weight tensors of the file.
        last_layer: bool. Whether it belongs to the network's last layer.

    Returns:
        float32 array of `shape`.
    """
    s = np.sin(0.7 * np.arange(int(np.prod(shape)), dtype=np.float64) + 1.3 * k)
    if name in _AFFINE:
        offset, scale = _AFFINE[name]
        value = 0.0 * s if (last_layer and name == "bias") else offset + scale * s
    elif name == "moving_variance":
        value = 1 + 0.5 * np.abs(s)
    elif name == "depthwise_kernel":
        value = 2 / np.sqrt(shape[0] * shape[1]) * s
    else:
        value = 2 / np.sqrt(np.prod(shape[:-1])) * s * (LAST_KERNEL_SCALE if last_layer else 1)
    return value.astype(np.float32).reshape(shape)


def probe_layers(layout):
    """`[(layer_name, [(weight_name, array), ...]), ...]` for a `layout.json` dict."""
    layers, k = [], 0
    for index, entry in enumerate(layout["layers"]):
        last = index == len(layout["layers"]) - 1
        weights = []
        for weight in entry["weights"]:
            weights.append((weight["name"], probe_value(weight["name"], weight["shape"], k, last)))
            k += 1
        layers.append((entry["layer"], weights))
    return layers


def write_probe_checkpoint(fixture_dir, path, whole_model=False):
    """Writes the probe's weights as an authors'-format checkpoint and returns its path.

    Args:
        fixture_dir: str or PathLike. The folder of `layout.json` and `probe.npz`.
        path: str or PathLike. The checkpoint to write (no extension needed).
        whole_model: bool. Nest the weights under `model_weights`. Defaults to False.
    """
    layout = json.loads((Path(fixture_dir) / "layout.json").read_text())
    write_keras2_h5(path, probe_layers(layout), whole_model=whole_model)
    return os.fspath(path)
