"""A run's best weights record the sha256 of their values, checked whenever they are loaded."""
import h5py
import keras
import numpy as np
import pytest

from attention_deeplab.digests import WEIGHTS_ATTRIBUTE
from attention_deeplab.errors import WeightsFileError
from attention_deeplab.model import load_weights_into
from attention_deeplab.training import run_folder
from attention_deeplab.training.run_folder import save_weights_atomic


def _model(seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(8),
                             keras.layers.BatchNormalization(), keras.layers.Dense(1)])


def _weights(model):
    return [keras.ops.convert_to_numpy(v).copy() for v in model.weights]


def _flip_a_value(path):
    """Flips one byte inside a dataset's values (not HDF5's structure): a silent change."""
    with h5py.File(path, "r") as handle:
        offset = handle["layers/dense/vars/0"].id.get_offset()
    data = bytearray(path.read_bytes())
    data[offset + 5] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.fixture
def best(tmp_path):
    path = tmp_path / "best.weights.h5"
    save_weights_atomic(_model(), path)
    return path


def test_best_weights_hold_their_digest_and_load(best):
    with h5py.File(best, "r") as handle:
        assert len(handle.attrs[WEIGHTS_ATTRIBUTE]) == 64
    model = _model(seed=1)
    load_weights_into(model, best)
    assert all(np.array_equal(a, b) for a, b in zip(_weights(model), _weights(_model())))


def test_a_flipped_value_is_refused_and_nothing_is_loaded(best):
    _flip_a_value(best)
    model = _model(seed=1)
    before = _weights(model)
    with pytest.raises(WeightsFileError, match=r"best\.weights\.h5.*sha256.*damaged"):
        load_weights_into(model, best)
    assert all(np.array_equal(a, b) for a, b in zip(_weights(model), before))


def test_a_damaged_digest_is_refused(best):
    with h5py.File(best, "r+") as handle:
        handle.attrs[WEIGHTS_ATTRIBUTE] = "0" * 64
    with pytest.raises(WeightsFileError, match="sha256"):
        load_weights_into(_model(seed=1), best)


def test_weights_without_a_digest_load_unchecked(best):
    # A run trained before the digest, or a .weights.h5 from elsewhere: loaded as before.
    with h5py.File(best, "r+") as handle:
        del handle.attrs[WEIGHTS_ATTRIBUTE]
    _flip_a_value(best)
    model = _model(seed=1)
    load_weights_into(model, best)
    assert not np.array_equal(_weights(model)[0], _weights(_model())[0])


def test_a_kill_before_the_rename_keeps_the_previous_weights_and_their_digest(
        best, monkeypatch):
    before = best.read_bytes()

    def killed(path):
        raise KeyboardInterrupt  # after the new weights were written, before the digest

    monkeypatch.setattr(run_folder, "embed_weights_digest", killed)
    with pytest.raises(KeyboardInterrupt):
        save_weights_atomic(_model(seed=2), best)
    assert best.read_bytes() == before
    assert [p.name for p in best.parent.iterdir()] == [best.name]  # no temporary left
    load_weights_into(_model(seed=1), best)
