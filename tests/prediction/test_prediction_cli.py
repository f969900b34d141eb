"""Predict_Skin.py with the real model (tiny preset) read back from a run folder.

The PH2 sample is segmented with a trained tiny run in
tests/evaluation/test_evaluation_trained_run.py, which trains one for both.
"""
import shutil

import numpy as np
import pytest
from PIL import Image

import Predict_Skin

SIZE = 64
pytestmark = pytest.mark.slow  # builds and reloads the model (about 15 s on 2 cores)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A run folder as training writes it, holding an untrained tiny model."""
    from attention_deeplab.model import build_from_options, model_options
    from attention_deeplab.run_config import RunConfig, write_config

    run_dir = tmp_path_factory.mktemp("run")
    options = model_options(input_shape=(SIZE, SIZE, 3), preset="tiny")
    build_from_options(options).save_weights(run_dir / "best.weights.h5")
    write_config(run_dir, RunConfig(model=options, dataset="isic2018"))
    return run_dir


def write_images(folder):
    folder.mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (517, 333, 3), dtype=np.uint8)).save(folder / "a.png")
    Image.fromarray(rng.integers(0, 255, (75, 100), dtype=np.uint8)).save(folder / "b.jpg")
    (folder / "c.jpg").write_bytes(b"corrupt")
    return folder


def test_corrupt_file_among_good_ones_exits_non_zero(tiny_run, tmp_path, capsys):
    images = write_images(tmp_path / "in")
    status = Predict_Skin.main(["--run-dir", str(tiny_run), "--input", str(images),
                                "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert status == 1
    assert "Segmented 2 images" in captured.out and "1 failed" in captured.out
    assert "c.jpg" in captured.err
    assert Image.open(tmp_path / "out" / "a_mask.png").size == (333, 517)
    assert Image.open(tmp_path / "out" / "b_mask.png").size == (100, 75)


def test_bare_weights_take_the_options_given(tiny_run, tmp_path):
    images = tmp_path / "in"
    images.mkdir()
    Image.fromarray(np.full((30, 40, 3), 90, np.uint8)).save(images / "flat.bmp")
    weights = tmp_path / "elsewhere" / "tiny.weights.h5"
    weights.parent.mkdir()
    shutil.copy(tiny_run / "best.weights.h5", weights)
    assert Predict_Skin.main(["--weights", str(weights), "--preset", "tiny", "--input",
                              str(images / "*.bmp"), "--out", str(tmp_path / "out")]) == 0
    assert Image.open(tmp_path / "out" / "flat_mask.png").size == (40, 30)
