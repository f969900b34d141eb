"""The three weight formats on the tiny network: dispatch by content, errors, no network."""
import json
import shutil
import urllib.error

import h5py

import numpy as np
import pytest

import keras

import models
from attention_deeplab.model import Deeplabv3pa, load_weights_into
from attention_deeplab.model.keras2_h5 import weighted_layers
from attention_deeplab.model.weights import detect_format
from tests.support.keras2_files import model_as_keras2_layers, write_keras2_h5

# A compiled model saved before its optimizer was built reloads with this Keras warning.
pytestmark = pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
X = np.random.default_rng(1).random((1, 64, 64, 3), dtype=np.float32)


def _tiny(**kwargs):
    return Deeplabv3pa(weights=None, input_shape=(64, 64, 3), preset="tiny", compile=False,
                       **kwargs)


def _predict(model):
    return keras.ops.convert_to_numpy(model(X, training=False))


def _weights(model):
    return [v.numpy().copy() for v in model.weights]


def _unchanged(model, snapshot):
    return all(np.array_equal(a, v.numpy()) for a, v in zip(snapshot, model.weights))


@pytest.fixture(scope="module")
def source():
    return _tiny()


@pytest.fixture(scope="module")
def target():
    return _tiny()


def _as_authors(model):
    # The authors' files carry auto-generated names: only order and shapes count.
    return [(f"layer_{i}", weights) for i, (_, weights) in enumerate(model_as_keras2_layers(model))]


def test_keras3_weights_with_and_without_extension(source, target, tmp_path):
    source.save_weights(tmp_path / "run.weights.h5")
    shutil.copyfile(tmp_path / "run.weights.h5", tmp_path / "best")
    for path in (tmp_path / "run.weights.h5", tmp_path / "best"):
        fresh = _tiny()
        assert load_weights_into(fresh, path) == "keras3_h5"
        np.testing.assert_array_equal(_predict(fresh), _predict(source))


def test_keras_archive(source, target, tmp_path):
    source.save(tmp_path / "model.keras")
    assert load_weights_into(target, tmp_path / "model.keras") == "keras"
    np.testing.assert_array_equal(_predict(target), _predict(source))


def test_keras3_mismatch_raises_and_loads_nothing(source, tmp_path):
    source.save_weights(tmp_path / "attention.weights.h5")
    plain = _tiny(attention=False)
    snapshot = _weights(plain)
    with pytest.raises(ValueError, match="attention.weights.h5"):
        load_weights_into(plain, tmp_path / "attention.weights.h5")
    assert _unchanged(plain, snapshot)


@pytest.mark.parametrize("whole_model", [False, True])
def test_authors_checkpoint_by_order(source, tmp_path, whole_model):
    path = tmp_path / "weight_isic18_deeplab_v3pa"  # no extension, as the authors'
    write_keras2_h5(path, _as_authors(source), whole_model=whole_model)
    fresh = _tiny()
    assert load_weights_into(fresh, path) == "keras2_h5:order"
    np.testing.assert_array_equal(_predict(fresh), _predict(source))
    built = Deeplabv3pa(weights=path, input_shape=(64, 64, 3), preset="tiny")
    np.testing.assert_array_equal(_predict(built), _predict(source))


def test_order_misfit_names_first_layer_and_loads_nothing(source, target, tmp_path):
    layers = _as_authors(source)
    name, weights = layers[5]
    layers[5] = (name, [(w, a[..., :-1]) for w, a in weights])  # one shape off
    write_keras2_h5(tmp_path / "bad", layers)
    snapshot = _weights(target)
    with pytest.raises(ValueError, match=r"weighted layer #5: file layer 'layer_5'"):
        load_weights_into(target, tmp_path / "bad")
    assert _unchanged(target, snapshot)


def test_checkpoint_of_another_variant_is_an_error_not_a_partial_load(source, tmp_path):
    # Names shared with the model (the backbone's), so loading by name would succeed in part.
    write_keras2_h5(tmp_path / "attention_ckpt", model_as_keras2_layers(source))
    plain = _tiny(attention=False)
    snapshot = _weights(plain)
    with pytest.raises(ValueError, match=r"does not fit the model .*weighted layer #\d+"):
        load_weights_into(plain, tmp_path / "attention_ckpt")
    assert _unchanged(plain, snapshot)


def _pascal_like(model, extra_shape=(1, 1, 8, 21)):
    # The Deeplabv3+ file: backbone/ASPP names shared with the model, plus its own head.
    keep = {"entry_flow_conv1_1", "entry_flow_conv1_1_BN", "aspp0", "decoder_conv1_pointwise"}
    layers = [(n, w) for n, w in model_as_keras2_layers(model) if n in keep]
    layers.append(("logits_semantic", [("kernel", np.ones(extra_shape, "float32")),
                                       ("bias", np.zeros(extra_shape[-1:], "float32"))]))
    return layers


def test_by_name_loads_common_layers_and_warns_once(source, tmp_path):
    write_keras2_h5(tmp_path / "voc.h5", _pascal_like(source))
    fresh = _tiny()
    with pytest.warns(UserWarning, match=rf"{len(weighted_layers(fresh)) - 4} of the model"):
        assert load_weights_into(fresh, tmp_path / "voc.h5") == "keras2_h5:name"
    for name in ("entry_flow_conv1_1", "aspp0", "decoder_conv1_pointwise"):
        np.testing.assert_array_equal(fresh.get_layer(name).get_weights()[0],
                                      source.get_layer(name).get_weights()[0])


def test_by_name_errors(source, target, tmp_path):
    layers = _pascal_like(source)
    layers[2] = ("aspp0", [("kernel", np.ones((1, 1, 3, 3), "float32"))])
    write_keras2_h5(tmp_path / "shape.h5", layers)
    snapshot = _weights(target)
    with pytest.raises(ValueError, match="layer 'aspp0' has shapes"):
        load_weights_into(target, tmp_path / "shape.h5")
    assert _unchanged(target, snapshot)
    write_keras2_h5(tmp_path / "alien.h5", [("logits_semantic", [("bias", np.zeros(2))])])
    with pytest.raises(ValueError, match="no layer name in common"):
        load_weights_into(target, tmp_path / "alien.h5")


def test_unreadable_files(tmp_path):
    (tmp_path / "notes.txt").write_text("not weights")
    with pytest.raises(ValueError, match="notes.txt"):
        detect_format(tmp_path / "notes.txt")
    with pytest.raises(FileNotFoundError, match="missing.h5"):
        detect_format(tmp_path / "missing.h5")
    with pytest.raises(FileNotFoundError, match="missing.h5"):
        Deeplabv3pa(weights=str(tmp_path / "missing.h5"), preset="tiny")


def test_pascal_voc_refuses_tiny_preset():
    with pytest.raises(ValueError, match="preset='full'"):
        Deeplabv3pa(weights="pascal_voc", input_shape=(64, 64, 3), preset="tiny")


def test_pascal_voc_without_network_says_what_to_do(monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("no route to host")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    with pytest.raises(RuntimeError, match="no network") as caught:
        Deeplabv3pa(weights="pascal_voc")
    assert "weights=None" in str(caught.value)
    assert "deeplabv3_xception_tf_dim_ordering_tf_kernels.h5" in str(caught.value)


@pytest.mark.slow
def test_convert_cli(source, tmp_path, capsys):
    write_keras2_h5(tmp_path / "authors", _as_authors(source), whole_model=True)
    config = {"class_name": "Model", "config": {"layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 64, 64, 3]}}]}}
    with h5py.File(tmp_path / "authors", "a") as f:  # as a Keras-2 whole-model save
        f.attrs["model_config"] = json.dumps(config).encode("utf8")
    out = tmp_path / "converted.keras"
    # The input size comes from the file's model_config.
    argv = ["--convert", str(tmp_path / "authors"), str(out), "--preset", "tiny"]
    assert models.main(argv) == 0
    np.testing.assert_array_equal(_predict(keras.saving.load_model(out)), _predict(source))
    assert models.main(["--convert", str(out), str(tmp_path / "x.keras")]) == 2
    assert "not a Keras-2 HDF5 checkpoint" in capsys.readouterr().err
