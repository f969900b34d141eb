"""Fixtures of the training tests: small prepared arrays and a small stand-in model.

The stand-in (a few convolutions with batch norm and dropout) traces in a
second, where the reduced network takes tens on 2 cores; the run-folder
mechanics do not depend on which network is trained.
"""
import pytest

from attention_deeplab.data.disc_arrays import write_disc_arrays
from tests.support.models import standin_model


def make_arrays(folder, train=12, val=4, size=32, seed=0, dataset="isic2018"):
    """Images with one dark disc each, the disc as mask, and a split.json."""
    return write_disc_arrays(folder, {"train": train, "val": val}, size, seed, dataset)


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
