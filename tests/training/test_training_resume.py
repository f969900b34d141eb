"""Resuming: after a kill at the end of an epoch or in the middle of saving it,
the run goes on with the batches, optimizer state and history of an uninterrupted one.
The state is written every few minutes, at the end, and on SIGINT/SIGTERM."""
import collections
import csv
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from attention_deeplab.data import loader
from attention_deeplab.run_config import LR_SCHEDULE
from attention_deeplab.training import run_folder, state_schedule, train
from attention_deeplab.training.run_folder import HISTORY_COLUMNS

REPO = Path(__file__).resolve().parents[2]

SETTINGS = dict(preset="tiny", backbone_weights="none", batch_size=4, lr=1e-2,
                precise_bn="off", verbose=0, seed=5)


@pytest.fixture
def batch_log(monkeypatch):
    """Records ("train" or "stats", epoch, batch index, image indices) of every shuffled
    batch read: the training batches and those of the precise statistics.

    Two loader threads read the training batches, so the order of the reads varies
    from run to run: compare sorted lists, which keep a batch read twice. Keras's
    TensorFlow adapter also reads batches 0 and 1 in the calling thread, for their
    shapes alone: those reads train nothing, and are left out.
    """
    drawn = []
    original = loader.ArraySequence.shard_indices

    def logged(self, index):  # what __getitem__ reads its images by
        images, first = original(self, index)
        kind = "train" if self.seed == SETTINGS["seed"] else "stats"  # stats: seed + 1
        in_loader = threading.current_thread() is not threading.main_thread()
        if self.shuffle and (kind == "stats" or in_loader):
            drawn.append((kind, self.epoch, int(index), tuple(int(i) for i in images)))
        return images, first

    monkeypatch.setattr(loader.ArraySequence, "shard_indices", logged)
    return drawn


def assert_each_batch_once(drawn, epochs, images=12):
    """Each epoch reads each batch once, and so each training image once."""
    reads = collections.Counter(entry[:3] for entry in drawn)
    assert set(reads.values()) == {1}, [key for key, count in reads.items() if count > 1]
    for kind in ("train", "stats"):
        for epoch in range(epochs):
            seen = sorted(i for entry in drawn if entry[:2] == (kind, epoch) for i in entry[3])
            assert seen == list(range(images)), (kind, epoch, seen)


@pytest.fixture
def quick_plateau(monkeypatch):
    """The learning-rate schedule with a patience of 1 and a min_delta no loss
    beats: the rate falls tenfold after epoch 2, and again after epoch 3."""
    monkeypatch.setattr("attention_deeplab.training.loop.LR_SCHEDULE",
                        {**LR_SCHEDULE, "patience": 1, "min_delta": 100.0})


def epochs_of(run_dir):
    with open(run_dir / "history.csv") as stream:
        return [int(row["epoch"]) for row in csv.DictReader(stream)]


@pytest.fixture
def state_every_epoch(monkeypatch):
    monkeypatch.setattr(state_schedule, "STATE_INTERVAL_S", 0.0)


def kill_when(monkeypatch, condition):
    """Makes the state writer raise KeyboardInterrupt (a stand-in for a kill) when
    `condition(state)` holds, before or after writing, as `condition` returns."""
    original = run_folder.save_state

    def save_state(run_dir, model, state):
        when = condition(state)
        if when == "before-rename":
            monkeypatch.setattr(run_folder, "write_json_atomic", interrupt)
        original(run_dir, model, state)
        if when == "after":
            raise KeyboardInterrupt

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("attention_deeplab.training.run_folder.save_state", save_state)


@pytest.mark.slow
# "optimizer in weights": a state written before the optimizer's variables were
# left out of its model.weights.h5 (they were in both files) resumes alike.
@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
@pytest.mark.parametrize("written", ["as now", "optimizer in weights"])
def test_resume_after_kill_matches_uninterrupted_run(
        data_dir, tmp_path, standin_no_dropout, batch_log, state_every_epoch, quick_plateau,
        written):
    settings = {**SETTINGS, "precise_bn": "on"}
    whole = tmp_path / "whole"
    train(data_dir, whole, epochs=3, **settings)
    uninterrupted = sorted(batch_log)
    assert_each_batch_once(uninterrupted, 3)
    batch_log.clear()

    resumed = tmp_path / "resumed"
    with pytest.MonkeyPatch.context() as patch:
        if written != "as now":
            patch.setattr(run_folder, "save_model_weights", lambda model, path: model.save_weights(path))
        kill_when(patch, lambda state: "after" if state["epoch"] == 2 else None)
        with pytest.raises(KeyboardInterrupt):
            train(data_dir, resumed, epochs=3, **settings)
    state = json.loads((resumed / "state.json").read_text())
    assert state["epoch"] == 2
    with h5py.File(resumed / state["folder"] / "model.weights.h5", "r") as stream:
        assert ("optimizer" in stream) == (written != "as now")
    # The stand-in kill comes from the background writer, once epoch 3 has begun
    # reading: those reads trained nothing that was kept, as after a real kill.
    batch_log[:] = [entry for entry in batch_log if entry[1] < state["epoch"]]
    summary = train(data_dir, resumed, epochs=3, **settings)
    assert summary["ran"] == 1
    # Every batch of both runs, the precise statistics' included, read once each.
    assert sorted(batch_log) == uninterrupted
    assert epochs_of(resumed) == [1, 2, 3]
    # The rate fell after epoch 2, before the kill, and again after epoch 3.
    histories = [list(csv.DictReader(open(run / "history.csv"))) for run in (whole, resumed)]
    for history in histories:
        assert [float(row["lr"]) for row in history] == pytest.approx([1e-2, 1e-2, 1e-3])
    final_whole, final_resumed = standin_no_dropout[0], standin_no_dropout[-1]
    for model in (final_whole, final_resumed):
        assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(1e-4)
    # Same optimizer state and schedule: the same weights as the uninterrupted run.
    for a, b in zip(final_whole.get_weights(), final_resumed.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)
    states = [json.loads((run / "state.json").read_text()) for run in (whole, resumed)]
    assert states[0]["lr_schedule"] == pytest.approx(states[1]["lr_schedule"])
    assert final_resumed.optimizer.iterations.numpy() == 9


@pytest.mark.slow
def test_kill_while_saving_keeps_previous_epoch(data_dir, tmp_path, standin, state_every_epoch):
    run_dir = tmp_path / "run"
    with pytest.MonkeyPatch.context() as patch:
        kill_when(patch, lambda state: "before-rename" if state["epoch"] == 2 else None)
        with pytest.raises(KeyboardInterrupt):
            train(data_dir, run_dir, epochs=3, **SETTINGS)
    assert json.loads((run_dir / "state.json").read_text())["epoch"] == 1
    assert epochs_of(run_dir) == [1]
    summary = train(data_dir, run_dir, epochs=3, **SETTINGS)
    assert summary["ran"] == 2 and epochs_of(run_dir) == [1, 2, 3]
    assert sorted(p.name for p in run_dir.glob("state-*")) == ["state-0003"]


def test_state_only_at_the_interval_and_the_end_with_timed_history(
        data_dir, tmp_path, standin, monkeypatch):
    # As if writing the state cost more than a tenth of every epoch (the full network).
    monkeypatch.setattr(state_schedule, "STATE_COST_RATIO", 1e9)
    written = []
    original = run_folder.save_state
    monkeypatch.setattr("attention_deeplab.training.run_folder.save_state",
                        lambda run_dir, model, state: written.append(state["epoch"])
                        or original(run_dir, model, state))
    run_dir = tmp_path / "run"
    train(data_dir, run_dir, epochs=3, **SETTINGS)  # epochs far shorter than the interval
    assert written == [1, 3]  # the first (its cost is not known yet), then the last
    with open(run_dir / "history.csv") as stream:
        rows = list(csv.DictReader(stream))
    assert tuple(rows[0]) == HISTORY_COLUMNS and len(rows) == 3
    for row in rows:
        parts = [float(row[f"seconds_{part}"]) for part in
                 ("steps", "precise_bn", "validation", "saving")]
        assert parts[0] > 0 and parts[1] == 0  # precise_bn off in SETTINGS
        assert parts[2] > 0 and parts[3] > 0
        assert sum(parts) <= float(row["seconds"]) + 0.02  # rounding of each part


def test_resume_puts_back_the_best_weights_of_its_state(data_dir, tmp_path, standin):
    run_dir = tmp_path / "run"
    train(data_dir, run_dir, epochs=1, **SETTINGS)
    kept = (run_dir / "best.weights.h5").read_bytes()
    # As if later epochs had written better weights before a kill -9.
    later = run_dir / "later.h5"
    later.write_bytes(kept[:-8] + b"\0" * 8)
    os.replace(later, run_dir / "best.weights.h5")
    model = standin[0]
    run_folder.restore_state(run_dir, model, run_folder.read_state(run_dir))
    assert (run_dir / "best.weights.h5").read_bytes() == kept


def start_child(data_dir, run_dir, epochs, interval):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.Popen([sys.executable, "-m", "tests.training.standin_child", str(data_dir),
                             str(run_dir), str(epochs), str(interval)], cwd=REPO, env=env,
                            text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def wait_for_epochs(run_dir, count, child, timeout=120):
    """Waits until history.csv lists `count` epochs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (run_dir / "history.csv").is_file():
            try:
                if len(epochs_of(run_dir)) >= count:
                    return
            except (OSError, ValueError, KeyError):
                pass
        assert child.poll() is None, child.stdout.read()
        time.sleep(0.05)
    raise AssertionError(f"no {count} epochs in {timeout} s")


def assert_whole_state(run_dir):
    """state.json names a folder holding that epoch's whole state."""
    state = json.loads((run_dir / "state.json").read_text())
    folder = run_dir / state["folder"]
    assert folder.name == f"state-{state['epoch']:04d}"
    assert (folder / "model.weights.h5").is_file() and (folder / "optimizer.npz").is_file()
    with np.load(folder / "optimizer.npz") as arrays:
        assert len(arrays.files) > 0
    # The optimizer's variables live in optimizer.npz alone (a third of the bytes).
    for weights in (folder / "model.weights.h5", run_dir / "best.weights.h5"):
        with h5py.File(weights, "r") as stream:
            assert "layers" in stream and "optimizer" not in stream
    assert len(state["history"]) == state["epoch"]
    return state


@pytest.mark.slow
def test_kill_9_at_any_moment_loses_only_unsaved_epochs(data_dir, tmp_path):
    run_dir = tmp_path / "run"
    random.seed(12)
    for kill in range(2):
        child = start_child(data_dir, run_dir, 12, 0)  # a state every epoch
        wait_for_epochs(run_dir, 2 * kill + 2, child)
        time.sleep(random.uniform(0, 0.5))  # anywhere in an epoch or its saving
        child.send_signal(signal.SIGKILL)
        child.wait()
        state = assert_whole_state(run_dir)
        assert state["epoch"] >= 2 * kill + 1
    child = start_child(data_dir, run_dir, 12, 0)
    assert child.wait(timeout=300) == 0, child.stdout.read()
    assert epochs_of(run_dir) == list(range(1, 13))
    assert assert_whole_state(run_dir)["epoch"] == 12


@pytest.mark.slow
def test_sigterm_finishes_the_epoch_and_writes_its_state(data_dir, tmp_path):
    run_dir = tmp_path / "run"
    child = start_child(data_dir, run_dir, 100, 3600)  # after the first, none before the end
    wait_for_epochs(run_dir, 2, child)
    assert run_folder.read_state(run_dir)["epoch"] == 1
    child.send_signal(signal.SIGTERM)
    assert child.wait(timeout=120) == 3
    output = child.stdout.read()
    state = assert_whole_state(run_dir)
    assert f"stopped by SIGTERM after epoch {state['epoch']}, whose state is saved" in output
    assert 2 <= state["epoch"] < 100 and epochs_of(run_dir) == list(range(1, state["epoch"] + 1))


def test_a_cheap_state_is_written_every_epoch(data_dir, tmp_path, standin, monkeypatch):
    written = []
    original = run_folder.save_state
    monkeypatch.setattr("attention_deeplab.training.run_folder.save_state",
                        lambda run_dir, model, state: written.append(state["epoch"])
                        or original(run_dir, model, state))
    train(data_dir, tmp_path / "run", epochs=3, **SETTINGS)
    # The stand-in's state takes milliseconds to write, its epochs far longer.
    assert written == [1, 2, 3]
