"""A run's best weights end with the sha256 of their bytes, checked whenever they are loaded."""
import hashlib

import h5py
import keras
import numpy as np
import pytest

from attention_deeplab.digests import TRAILER_LENGTH, TRAILER_PREFIX
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


def _flip(path, where):
    """Flips one byte: in a dataset's values (a silent change for HDF5), or in the middle
    of the file (here HDF5's structure, where a flip can also pass unnoticed)."""
    with h5py.File(path, "r") as handle:
        value = handle["layers/dense/vars/0"].id.get_offset() + 5
    data = bytearray(path.read_bytes())
    data[value if where == "value" else len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.fixture
def best(tmp_path):
    path = tmp_path / "best.weights.h5"
    save_weights_atomic(_model(), path)
    return path


def test_best_weights_end_with_the_sha256_of_their_bytes_and_load(best):
    data = best.read_bytes()
    body, trailer = data[:-TRAILER_LENGTH], data[-TRAILER_LENGTH:]
    assert trailer == b"\n" + TRAILER_PREFIX + hashlib.sha256(body).hexdigest().encode() + b"\n"
    model = _model(seed=1)
    load_weights_into(model, best)
    assert all(np.array_equal(a, b) for a, b in zip(_weights(model), _weights(_model())))


@pytest.mark.parametrize("where", ["value", "middle"])
def test_a_flipped_byte_is_refused_and_nothing_is_loaded(best, where):
    _flip(best, where)
    model = _model(seed=1)
    before = _weights(model)
    with pytest.raises(WeightsFileError, match=r"best\.weights\.h5.*sha256.*damaged"):
        load_weights_into(model, best)
    assert all(np.array_equal(a, b) for a, b in zip(_weights(model), before))


def test_a_damaged_digest_is_refused(best):
    data = bytearray(best.read_bytes())
    data[-2] = ord("0") if data[-2] != ord("0") else ord("1")  # the digest's last hex digit
    best.write_bytes(bytes(data))
    with pytest.raises(WeightsFileError, match="sha256"):
        load_weights_into(_model(seed=1), best)


def test_weights_without_a_digest_load_unchecked(best):
    # A run trained before the digest, or a .weights.h5 from elsewhere: loaded as before.
    best.write_bytes(best.read_bytes()[:-TRAILER_LENGTH])
    _flip(best, "value")
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
