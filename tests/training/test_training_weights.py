"""Weights in and out of a run with the reduced network: --init-weights, load_inference_model."""
import keras
import numpy as np
import pytest

import Train_Skin_Lesion_Segmentation as script
from attention_deeplab.inference import load_inference_model
from attention_deeplab.model import build_from_options, model_options
from attention_deeplab.run_config import RunConfig, read_config, write_config
from attention_deeplab.training import train

TINY = model_options(input_shape=(64, 64, 3), preset="tiny")


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    """A reduced network's weights, saved, with an input batch and its prediction."""
    keras.utils.set_random_seed(123)
    model = build_from_options(TINY)
    path = tmp_path_factory.mktemp("weights") / "tiny.weights.h5"
    model.save_weights(path)
    x = np.random.default_rng(0).uniform(0, 255, (2, 64, 64, 3)).astype(np.float32)
    return path, x, predict(model, x), model.get_weights()


def predict(model, x):
    """An eager inference-mode call: no tracing, which costs seconds per model here."""
    return keras.ops.convert_to_numpy(model(x, training=False))


def test_init_weights_are_loaded(tmp_path, tiny_weights, monkeypatch, make_data):
    path, _, _, expected = tiny_weights
    seen = {}

    def capture(model, splits, config, state, run_dir, verbose=1, **kwargs):
        seen["weights"], seen["config"] = model.get_weights(), config
        return {"epoch": 1, "best": {"val_loss": 1.0, "epoch": 1}}

    monkeypatch.setattr("attention_deeplab.training.entry.run_epochs", capture)
    data_dir = make_data(tmp_path / "data", train=4, val=2, size=64)
    train(data_dir, tmp_path / "run", epochs=1, batch_size=2, preset="tiny",
          backbone_weights="pascal_voc", init_weights=path, verbose=0)
    assert len(seen["weights"]) == len(expected)
    for got, want in zip(seen["weights"], expected):
        np.testing.assert_array_equal(got, want)
    # Started from trained weights: the original's moving averages, as with PASCAL VOC.
    assert seen["config"].precise_bn is False
    assert seen["config"].init_weights == str(path)


def test_init_weights_that_do_not_fit_are_one_line_error(tmp_path, capsys, make_data,
                                                         make_standin):
    data_dir = make_data(tmp_path / "data", train=4, val=2, size=64)
    other = tmp_path / "other.weights.h5"
    make_standin({"input_shape": [64, 64, 3]}).save_weights(other)
    argv = ["--data-dir", str(data_dir), "--run-dir", str(tmp_path / "run"), "--preset", "tiny",
            "--init-weights", str(other), "--batch-size", "2", "--epochs", "1", "--quiet"]
    assert script.main(argv) == 1
    error = capsys.readouterr().err.strip()
    assert f"--init-weights {other} does not fit the model" in error
    assert len(error.splitlines()) == 1


def test_pascal_voc_without_network_is_one_line_error(tmp_path, capsys, make_data,
                                                      monkeypatch):
    def offline(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    data_dir = make_data(tmp_path / "data", train=4, val=2, size=64)
    argv = ["--data-dir", str(data_dir), "--run-dir", str(tmp_path / "run"),
            "--batch-size", "2", "--epochs", "1", "--quiet"]
    assert script.main(argv) == 1
    error = capsys.readouterr().err.strip()
    assert "--backbone-weights pascal_voc" in error and "no network" in error
    assert "--backbone-weights none" in error and len(error.splitlines()) == 1


def test_load_inference_model_from_run_and_from_weights(tmp_path, tiny_weights):
    path, x, expected, _ = tiny_weights
    run_dir = tmp_path / "run"
    write_config(run_dir, RunConfig(model=TINY, batch_size=7))
    (run_dir / "best.weights.h5").write_bytes(path.read_bytes())
    assert read_config(run_dir).model == TINY
    model = load_inference_model(run_dir)
    np.testing.assert_allclose(predict(model, x), expected, atol=1e-6)
    bare = load_inference_model(weights=path, preset="tiny", input_shape=(64, 64, 3))
    np.testing.assert_allclose(predict(bare, x), expected, atol=1e-6)


def test_load_inference_model_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="Train_Skin_Lesion_Segmentation.py"):
        load_inference_model(tmp_path / "nothing")
    write_config(tmp_path / "run", RunConfig(model=TINY))
    with pytest.raises(FileNotFoundError, match="best.weights.h5"):
        load_inference_model(tmp_path / "run")
    with pytest.raises(ValueError, match="--run-dir .* or --weights"):
        load_inference_model()
