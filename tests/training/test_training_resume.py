"""Resuming: after a kill at the end of an epoch or in the middle of saving it,
the run goes on with the batches, optimizer state and history of an uninterrupted one."""
import csv
import json

import numpy as np
import pytest

from attention_deeplab.data import loader
from attention_deeplab.training import run_folder, train

SETTINGS = dict(preset="tiny", backbone_weights="none", batch_size=4, lr=1e-2,
                precise_bn="off", verbose=0, seed=5)


@pytest.fixture
def batch_log(monkeypatch):
    """Records (epoch, batch index, image indices) of every shuffled training batch drawn.

    Two loader threads draw batches, so the order of the calls varies from run to
    run: compare the records as a set (each batch index maps to one set of images).
    """
    drawn = []
    original = loader.ArraySequence.batch_indices

    def logged(self, index):
        indices = original(self, index)
        if self.shuffle:
            drawn.append((self.epoch, int(index), tuple(int(i) for i in indices)))
        return indices

    monkeypatch.setattr(loader.ArraySequence, "batch_indices", logged)
    return drawn


def epochs_of(run_dir):
    with open(run_dir / "history.csv") as stream:
        return [int(row["epoch"]) for row in csv.DictReader(stream)]


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

    monkeypatch.setattr("attention_deeplab.training.loop.save_state", save_state)


@pytest.mark.slow
def test_resume_after_kill_matches_uninterrupted_run(
        data_dir, tmp_path, standin_no_dropout, batch_log):
    whole = tmp_path / "whole"
    train(data_dir, whole, epochs=3, **SETTINGS)
    uninterrupted = [entry for entry in batch_log if entry[0] == 2]
    batch_log.clear()

    resumed = tmp_path / "resumed"
    with pytest.MonkeyPatch.context() as patch:
        kill_when(patch, lambda state: "after" if state["epoch"] == 2 else None)
        with pytest.raises(KeyboardInterrupt):
            train(data_dir, resumed, epochs=3, **SETTINGS)
    assert json.loads((resumed / "state.json").read_text())["epoch"] == 2
    batch_log.clear()
    summary = train(data_dir, resumed, epochs=3, **SETTINGS)
    assert summary["ran"] == 1
    assert set(batch_log) == set(uninterrupted)  # the third epoch's batches, index by index
    assert epochs_of(resumed) == [1, 2, 3]
    # Same optimizer state and schedule: the same weights as the uninterrupted run.
    final_whole, final_resumed = standin_no_dropout[0], standin_no_dropout[-1]
    for a, b in zip(final_whole.get_weights(), final_resumed.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)
    states = [json.loads((run / "state.json").read_text()) for run in (whole, resumed)]
    assert states[0]["lr_schedule"] == pytest.approx(states[1]["lr_schedule"])
    assert final_resumed.optimizer.iterations.numpy() == 9


@pytest.mark.slow
def test_kill_while_saving_keeps_previous_epoch(data_dir, tmp_path, standin):
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
