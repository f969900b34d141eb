"""The full network against the original's checkpoint layout and numeric probe (slow)."""
import json
import shutil

import numpy as np
import pytest

import keras

from attention_deeplab.model import Deeplabv3pa, load_weights_into
from tests.support import probe
from tests.support.probe import PROBE_BOUND
from attention_deeplab.model.keras2_h5 import weighted_layers
from tests.support.keras2_files import write_keras2_h5

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def layout(original_checkpoint_dir):
    return json.loads((original_checkpoint_dir / "layout.json").read_text())


@pytest.fixture(scope="module")
def full_model():
    return Deeplabv3pa(weights=None, input_shape=(256, 256, 3), compile=False)


@pytest.fixture(scope="module")
def probe_layers(layout):
    return probe.probe_layers(layout)


def test_layout_matches_the_original(full_model, layout):
    ours = weighted_layers(full_model)
    assert len(ours) == len(layout["layers"]) == 321
    for index, (layer, entry) in enumerate(zip(ours, layout["layers"])):
        shapes = [list(v.shape) for v in layer.weights]
        assert (type(layer).__name__, shapes) == (
            entry["class"], [w["shape"] for w in entry["weights"]]), (index, layer.name)
    assert full_model.count_params() == layout["params"] == 57_451_221


def test_probe_output_from_authors_checkpoints(full_model, probe_layers, original_checkpoint_dir,
                                               tmp_path):
    write_keras2_h5(tmp_path / "weights_only", probe_layers)
    write_keras2_h5(tmp_path / "whole_model", probe_layers, whole_model=True)
    shutil.copyfile(tmp_path / "weights_only", tmp_path / "weights_only.h5")
    shutil.copyfile(tmp_path / "whole_model", tmp_path / "whole_model.hdf5")
    expected = [a for _, weights in probe_layers for _, a in weights]
    probe = np.load(original_checkpoint_dir / "probe.npz")
    for name in ("weights_only", "whole_model", "weights_only.h5", "whole_model.hdf5"):
        for variable in full_model.weights:  # so that each file has to load everything
            variable.assign(np.zeros(variable.shape, "float32"))
        assert load_weights_into(full_model, tmp_path / name) == "keras2_h5:order"
        ours = [v.numpy() for layer in weighted_layers(full_model) for v in layer.weights]
        assert all(np.array_equal(a, b) for a, b in zip(ours, expected)), name
    y = full_model.predict(probe["x_uint8"].astype("float32") / 255.0, verbose=0)
    difference = float(np.abs(y - probe["y"]).max())
    assert difference < PROBE_BOUND, difference


def test_pascal_voc_start_by_name(full_model, monkeypatch, tmp_path):
    rng = np.random.default_rng(2)
    layers = [("entry_flow_conv1_1", [("kernel", rng.normal(size=(3, 3, 3, 32)))]),
              ("aspp0", [("kernel", rng.normal(size=(1, 1, 2048, 256)))]),
              ("concat_projection", [("kernel", rng.normal(size=(1, 1, 1280, 256)))]),
              ("logits_semantic", [("kernel", rng.normal(size=(1, 1, 256, 21))),
                                   ("bias", np.zeros(21))])]
    path = tmp_path / "deeplabv3_xception_tf_dim_ordering_tf_kernels.h5"
    write_keras2_h5(path, [(n, [(w, a.astype("float32")) for w, a in ws]) for n, ws in layers])
    calls = []

    def cached_get_file(fname, origin, **kwargs):
        calls.append((fname, origin))
        return str(path)

    monkeypatch.setattr(keras.utils, "get_file", cached_get_file)
    with pytest.warns(UserWarning, match="319 of the model's 321 layers"):
        model = Deeplabv3pa(weights="pascal_voc", compile=False)
    assert calls[0][0] == path.name and "bonlime/keras-deeplab-v3-plus" in calls[0][1]
    np.testing.assert_array_equal(model.get_layer("aspp0").get_weights()[0],
                                  layers[1][1][0][1].astype("float32"))
