"""The reduced network trained from scratch on the synthetic dataset at 64x64."""
import csv

import numpy as np
import pytest

from attention_deeplab.data.loader import load_split, normalize_images
from attention_deeplab.data.prepare import prepare_dataset
from attention_deeplab.data.synthetic import generate
from attention_deeplab.inference import load_inference_model
from attention_deeplab.training import train


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    generate("isic2018", 64, root / "raw", seed=0, width_range=(96, 128))
    prepare_dataset("isic2018", root / "raw", out_dir=root / "data", image_size=64,
                    workers=1, progress=False, say=lambda *args: None)
    # From scratch, so --precise-bn auto is on; 45 training images, 11 steps an epoch.
    train(root / "data", root / "run", epochs=12, batch_size=4, lr=3e-3, preset="tiny",
          backbone_weights="none", verbose=0)
    with open(root / "run" / "history.csv") as stream:
        return root, [{k: float(v) for k, v in row.items() if k != "backend"}
                      for row in csv.DictReader(stream)]


@pytest.mark.slow
def test_val_loss_falls_and_best_checkpoint_loads(tiny_run):
    root, history = tiny_run
    assert history[2]["val_loss"] < history[0]["val_loss"]
    best = min(history, key=lambda row: row["val_loss"])
    model = load_inference_model(root / "run")
    images, masks = load_split(root / "data", "val")
    pred = model.predict(normalize_images(images), verbose=0)[..., 0] > 0.5
    truth = masks > 127
    dice = 2 * np.sum(pred & truth) / (np.sum(pred) + np.sum(truth))
    assert dice == pytest.approx(best["val_dice"], abs=1e-3)


@pytest.mark.slow
def test_inference_dice_follows_training_dice(tiny_run):
    _, history = tiny_run
    last = history[-1]
    # Precise statistics are on (from scratch); without them the inference-mode maps
    # can be one constant map (test_training_moving_statistics.py).
    assert last["dice"] > 0.5
    assert last["val_dice"] > 0.75 * last["dice"]
