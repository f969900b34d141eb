"""Saving in the background: the files are Keras's, hold the weights of the moment
they were copied, a writing error reaches the training loop, and a kill -9 in the
middle of a background write leaves the previous state to resume from."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import keras
import numpy as np
import pytest

from attention_deeplab.training import run_folder, train
from attention_deeplab.training.background_writer import BackgroundWriter
from attention_deeplab.training.host_weights import HostWeights
from tests.support.models import standin_model

REPO = Path(__file__).resolve().parents[2]
SETTINGS = dict(preset="tiny", backbone_weights="none", batch_size=4, lr=1e-2,
                precise_bn="off", verbose=0, seed=5)


def trained_standin():
    """The stand-in network after one step, so that its optimizer is built as in a run."""
    model = standin_model({"input_shape": (16, 16, 3)})
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy",
                  metrics=["accuracy"])
    images = np.random.default_rng(0).uniform(0, 255, (4, 16, 16, 3)).astype(np.float32)
    masks = (images[..., :1] > 127).astype(np.float32)
    model.train_on_batch(images, masks)
    return model, images, masks


def h5_tree(path):
    """Every group and dataset of an HDF5 file: its attributes, dtype and bytes."""
    entries = {}

    def visit(name, item):
        data = item[()] if isinstance(item, h5py.Dataset) else None
        entries[name] = ({key: np.asarray(value).tolist() for key, value in item.attrs.items()},
                         None if data is None else (str(data.dtype), data.shape, data.tobytes()))

    with h5py.File(path, "r") as stream:
        stream.visititems(visit)
    return entries


def test_host_copy_writes_the_file_keras_writes(tmp_path):
    model, _, _ = trained_standin()
    host = HostWeights(model, optimizer=True)
    for ours, keras_writes in ((lambda p: run_folder.save_model_weights(host, p),
                                lambda p: run_folder.save_model_weights(model, p)),
                               (host.save_weights, model.save_weights)):
        paths = tmp_path / "ours.weights.h5", tmp_path / "keras.weights.h5"
        ours(paths[0])
        keras_writes(paths[1])
        assert h5_tree(paths[0]) == h5_tree(paths[1]) != {}
    reloaded = standin_model({"input_shape": (16, 16, 3)})
    run_folder.save_model_weights(host, tmp_path / "best.weights.h5")
    reloaded.load_weights(tmp_path / "best.weights.h5")
    for a, b in zip(model.get_weights(), reloaded.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_host_copy_keeps_the_values_of_its_moment(tmp_path):
    model, images, masks = trained_standin()
    before = [np.array(w) for w in model.get_weights()]
    moments = [np.array(keras.ops.convert_to_numpy(v)) for v in model.optimizer.variables]
    host = HostWeights(model, optimizer=True)
    model.train_on_batch(images, masks)  # the next epoch trains while the thread writes
    run_folder.save_model_weights(host, tmp_path / "then.weights.h5")
    reloaded = standin_model({"input_shape": (16, 16, 3)})
    reloaded.load_weights(tmp_path / "then.weights.h5")
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    for a, b in zip(before, reloaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(moments, host.optimizer_arrays):
        np.testing.assert_array_equal(a, b)


def test_a_writing_error_reaches_the_caller():
    writer = BackgroundWriter()
    writer.submit(lambda: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        writer.wait()
    writer.wait()  # raised once


def test_a_writing_error_stops_the_run(data_dir, tmp_path, standin, monkeypatch):
    def full(*args):
        raise OSError("No space left on device")

    monkeypatch.setattr(run_folder, "write_history", full)
    with pytest.raises(OSError, match="No space left"):
        train(data_dir, tmp_path / "run", epochs=3, **SETTINGS)


def test_the_run_returns_once_everything_is_written(data_dir, tmp_path, standin, monkeypatch):
    save_state = run_folder.save_state

    def slow(*args):
        time.sleep(1.0)
        save_state(*args)

    monkeypatch.setattr(run_folder, "save_state", slow)
    train(data_dir, tmp_path / "run", epochs=2, **SETTINGS)
    assert json.loads((tmp_path / "run" / "state.json").read_text())["epoch"] == 2
    assert (tmp_path / "run" / "training_curves.png").is_file()


@pytest.mark.slow
def test_kill_9_during_a_background_write_keeps_the_previous_state(data_dir, tmp_path):
    run_dir = tmp_path / "run"
    command = [sys.executable, "-m", "tests.training.standin_child", str(data_dir),
               str(run_dir), "4", "0"]  # a state every epoch
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    child = subprocess.Popen([*command, "--slow-state-write"], cwd=REPO, env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 240
    while not (tmp_path / "writing-state-0002").exists():
        assert child.poll() is None and time.monotonic() < deadline, child.stdout.read()
        time.sleep(0.05)
    assert (run_dir / "state-0002" / "model.weights.h5").is_file()  # half of state 2 written
    child.send_signal(signal.SIGKILL)
    child.wait()
    state = run_folder.read_state(run_dir)
    assert state["epoch"] == 1 and (run_dir / state["folder"] / "optimizer.npz").is_file()
    first = state["history"][0]
    done = subprocess.run(command, cwd=REPO, env=env, text=True, capture_output=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    state = run_folder.read_state(run_dir)
    assert state["epoch"] == 4 and [row["epoch"] for row in state["history"]] == [1, 2, 3, 4]
    assert state["history"][0] == first  # resumed: epoch 1 not run again (its timing differs)
    assert sorted(p.name for p in run_dir.glob("state-*")) == ["state-0004"]
