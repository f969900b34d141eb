"""Fixtures of the training tests: small prepared arrays and a small stand-in model.

The stand-in (a few convolutions with batch norm and dropout) traces in a
second, where the reduced network takes tens on 2 cores; the run-folder
mechanics do not depend on which network is trained.
"""
import json

import keras
import numpy as np
import pytest


def make_arrays(folder, train=12, val=4, size=32, seed=0, dataset="isic2018"):
    """Images with one dark disc each, the disc as mask, and a split.json."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    folder.mkdir(parents=True, exist_ok=True)
    for split, count in (("train", train), ("val", val)):
        images = np.empty((count, size, size, 3), np.uint8)
        masks = np.empty((count, size, size), np.uint8)
        for i in range(count):
            cy, cx = rng.integers(size // 4, 3 * size // 4, 2)
            disc = (yy - cy) ** 2 + (xx - cx) ** 2 < rng.integers(size // 8, size // 4) ** 2
            image = rng.normal(180, 15, (size, size, 3))
            image[disc] -= 110
            images[i], masks[i] = np.clip(image, 0, 255), disc * 255
        np.save(folder / f"data_{split}.npy", images)
        np.save(folder / f"mask_{split}.npy", masks)
    (folder / "split.json").write_text(json.dumps(
        {"dataset": dataset, "fingerprint": f"test-{train}-{val}-{size}-{seed}"}))
    return folder


def standin_model(options, dropout=True):
    """A small segmentation network with batch norm (and dropout)."""
    inputs = keras.Input(tuple(options["input_shape"]))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(8, 3, padding="same", use_bias=False)(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Activation("relu")(x)
    if dropout:
        x = keras.layers.Dropout(0.1)(x)
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    outputs = keras.layers.Conv2D(1, 1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs)


@pytest.fixture
def data_dir(tmp_path):
    return make_arrays(tmp_path / "data")


@pytest.fixture
def standin(monkeypatch):
    """Trains the stand-in instead of the network; yields the built models."""
    built = []

    def build(options, weights, dropout=True):
        built.append(standin_model(options, dropout))
        return built[-1]

    monkeypatch.setattr("attention_deeplab.training.model_setup._build", build)
    return built


@pytest.fixture
def standin_no_dropout(monkeypatch):
    """The stand-in without dropout: its training is deterministic for a seed."""
    built = []

    def build(options, weights):
        built.append(standin_model(options, dropout=False))
        return built[-1]

    monkeypatch.setattr("attention_deeplab.training.model_setup._build", build)
    return built


@pytest.fixture
def make_data():
    """`make_arrays`, for tests that need other sizes."""
    return make_arrays


@pytest.fixture
def make_standin():
    """`standin_model`, for tests that need one outside training."""
    return standin_model
