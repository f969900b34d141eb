"""Export_Skin.py: each format exported from a tiny run and checked in its own runtime; a
corrupted export refused with its difference; ONNX prediction without Keras or TensorFlow.

Runs in `make test-backends`, which installs the export packages
(requirements-backends.txt); `make test` skips it.
"""
import subprocess
import sys

import keras
import numpy as np
import pytest
from PIL import Image

import Export_Skin
import Predict_Skin

pytest.importorskip("onnxruntime")
SIZE = 64
NO_KERAS = "tests/support/no_keras.py"
pytestmark = pytest.mark.slow  # builds, exports and reloads the tiny model (about 20 s each)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A run folder whose tiny model has batch-norm statistics away from their initial 0 and 1,
    as after training, so the export carries non-trivial normalisation."""
    from attention_deeplab.model import build_from_options, model_options
    from attention_deeplab.run_config import RunConfig, write_config

    run_dir = tmp_path_factory.mktemp("run")
    keras.utils.set_random_seed(0)  # the same network in every run of the tests
    options = model_options(input_shape=(SIZE, SIZE, 3), preset="tiny")
    model = build_from_options(options)
    rng = np.random.default_rng(0)
    for variable in model.non_trainable_variables:
        shape = tuple(variable.shape)
        if "moving_mean" in variable.path:
            variable.assign(rng.normal(0, 0.2, shape).astype("float32"))
        elif "moving_variance" in variable.path:
            variable.assign(rng.uniform(0.5, 2.0, shape).astype("float32"))
    model.save_weights(run_dir / "best.weights.h5")
    write_config(run_dir, RunConfig(model=options, dataset="isic2018"))
    return run_dir


@pytest.fixture(scope="module")
def onnx_file(tiny_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("onnx") / "model.onnx"
    assert Export_Skin.main(["--run-dir", str(tiny_run), "--format", "onnx",
                             "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize("fmt, name", [("savedmodel", "model_savedmodel"),
                                       ("tflite", "model.tflite")])
def test_export_passes_its_check(tiny_run, tmp_path, capsys, fmt, name):
    pytest.importorskip("ai_edge_litert" if fmt == "tflite" else "tensorflow")
    status = Export_Skin.main(["--run-dir", str(tiny_run), "--format", fmt,
                               "--out", str(tmp_path / name)])
    assert status == 0, capsys.readouterr().err
    line = capsys.readouterr().out
    assert f"Exported {fmt}" in line and float(line.rsplit(": ", 1)[1]) <= 1e-4


def test_onnx_export_passes_its_check(onnx_file, tiny_run):
    from attention_deeplab.inference.export import check_export, check_images, float32_model

    model = float32_model(tiny_run)
    assert check_export(model, "onnx", onnx_file, check_images((SIZE, SIZE))) <= 1e-4


def test_a_mixed_precision_run_exports_in_float32(tiny_run, tmp_path):
    import keras

    from attention_deeplab.inference.export import float32_model
    from attention_deeplab.model import build_from_options
    from attention_deeplab.run_config import read_config, write_config
    from attention_deeplab.training.model_setup import precision_policy

    config = read_config(tiny_run)
    # The run's policy still set, as in a process that has just trained it.
    with precision_policy("float16"):
        build_from_options(config.model, compile=False).save_weights(tmp_path / "best.weights.h5")
        write_config(tmp_path, config)
        model = float32_model(tmp_path)
        assert keras.config.dtype_policy().name == "mixed_float16"  # restored after the build
    assert {layer.dtype_policy.name for layer in model.layers} == {"float32"}


def _corrupt_onnx(path):
    """Halves every float initializer of the file (kernels, biases, statistics): an
    export whose numbers are not the model's. (Shifting one kernel by 0.05 was not
    always visible through this untrained model's saturated output.)"""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path))
    for tensor in graph.graph.initializer:
        values = numpy_helper.to_array(tensor)
        if values.dtype == np.float32 and values.size > 1:
            tensor.CopyFrom(numpy_helper.from_array(values * np.float32(0.5), tensor.name))
    onnx.save(graph, str(path))


def test_a_corrupted_export_fails_with_its_difference(tiny_run, tmp_path, monkeypatch, capsys):
    pytest.importorskip("onnx")
    from attention_deeplab.inference import export

    original = export.export_model

    def export_then_corrupt(model, fmt, out):
        original(model, fmt, out)
        _corrupt_onnx(out)

    monkeypatch.setattr(export, "export_model", export_then_corrupt)
    status = Export_Skin.main(["--run-dir", str(tiny_run), "--format", "onnx",
                               "--out", str(tmp_path / "bad.onnx")])
    err = capsys.readouterr().err
    assert status == 1
    assert "differs from the Keras model by" in err and "more than 0.0001" in err


def _write_photos(folder):
    folder.mkdir()
    rng = np.random.default_rng(1)
    for name, shape in (("a.png", (117, 93, 3)), ("b.jpg", (64, 80, 3)), ("c.bmp", (200, 150))):
        Image.fromarray(rng.integers(0, 255, shape, dtype=np.uint8)).save(folder / name)
    return folder


def _median_probability(run_dir, photos):
    """A threshold splitting the model's probabilities in half, so the masks are not empty."""
    from attention_deeplab.inference import load_inference_model, predict_batch
    from attention_deeplab.inference.images import read_input

    model = load_inference_model(run_dir=run_dir)
    images = np.stack([read_input(path, (SIZE, SIZE))[1] for path in sorted(photos.iterdir())])
    return float(np.median(predict_batch(model, images)))


def _no_keras(*args):
    return subprocess.run([sys.executable, NO_KERAS, "Predict_Skin.py", *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def test_onnx_prediction_needs_no_keras_and_matches_it(onnx_file, tiny_run, tmp_path):
    photos = _write_photos(tmp_path / "photos")
    threshold = repr(_median_probability(tiny_run, photos))  # exact: the outputs of an
    # untrained network can lie within 1e-6 of each other, and a rounded median splits none
    assert Predict_Skin.main(["--run-dir", str(tiny_run), "--input", str(photos), "--threshold",
                              threshold, "--out", str(tmp_path / "keras")]) == 0
    done = _no_keras("--model", onnx_file, "--input", photos, "--threshold", threshold,
                     "--out", tmp_path / "onnx")
    assert done.returncode == 0, done.stderr
    agree = total = lesion = 0
    for name in ("a", "b", "c"):
        keras_mask = np.array(Image.open(tmp_path / "keras" / f"{name}_mask.png"))
        onnx_mask = np.array(Image.open(tmp_path / "onnx" / f"{name}_mask.png"))
        agree, total = agree + np.sum(keras_mask == onnx_mask), total + keras_mask.size
        lesion += np.sum(keras_mask > 0)
    assert 0.1 < lesion / total < 0.9  # masks with both classes, so agreement means something
    assert agree / total >= 0.999


def test_the_blocker_refuses_the_keras_path(tiny_run, tmp_path):
    # Proves the wrapper above blocks Keras: the --run-dir path cannot run in it.
    done = _no_keras("--run-dir", tiny_run, "--input", _write_photos(tmp_path / "photos"),
                     "--out", tmp_path / "out")
    assert done.returncode != 0 and "is blocked" in done.stderr
