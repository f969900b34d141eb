"""--tensorboard: Keras's TensorBoard callback writes one scalar per epoch and metric,
read back with tensorboard's own event reader; a resumed run has no duplicate steps."""
import csv

import numpy as np
import pytest

from attention_deeplab.training import train
from tests.training.test_training_resume import (  # noqa: F401 (fixtures)
    SETTINGS, kill_when, quick_plateau, state_every_epoch)

event_accumulator = pytest.importorskip(
    "tensorboard.backend.event_processing.event_accumulator",
    reason="needs the tensorboard package (pip install -r requirements-test.txt)")
from tensorboard.util import tensor_util  # noqa: E402


def scalars(folder):
    """tag -> [(step, value)] of every event file in `folder`."""
    reader = event_accumulator.EventAccumulator(
        str(folder), size_guidance={event_accumulator.TENSORS: 0})
    reader.Reload()
    return {tag: [(event.step, float(tensor_util.make_ndarray(event.tensor_proto)))
                  for event in reader.Tensors(tag)] for tag in reader.Tags()["tensors"]}


def check_against_history(run_dir, epochs):
    with open(run_dir / "history.csv") as stream:
        history = list(csv.DictReader(stream))
    train_tags, val_tags = (scalars(run_dir / "tensorboard" / part)
                            for part in ("train", "validation"))
    expected = {**{f"epoch_{key}": key for key in (
        "loss", "dice", "accuracy", "seconds", "seconds_steps", "seconds_precise_bn",
        "seconds_validation", "seconds_saving")}, "epoch_learning_rate": "lr"}
    assert set(expected) <= set(train_tags)
    for tag, column in expected.items():
        steps, values = zip(*train_tags[tag])
        assert list(steps) == list(range(epochs)), tag  # one per epoch, none twice
        # history.csv's last row leaves out the handing over of its own files.
        slack = 0.05 if column.startswith("seconds") else 0
        np.testing.assert_allclose(values, [float(row[column]) for row in history], rtol=1e-6,
                                   atol=slack, err_msg=tag)
    for tag in ("epoch_loss", "epoch_dice", "epoch_accuracy"):
        steps, values = zip(*val_tags[tag])
        assert list(steps) == list(range(epochs))
        np.testing.assert_allclose(values, [float(row["val_" + tag[6:]]) for row in history],
                                   rtol=1e-6)


def test_one_scalar_per_epoch_and_metric_after_a_resume(
        data_dir, tmp_path, standin, state_every_epoch, quick_plateau):  # noqa: F811
    run_dir = tmp_path / "run"
    # Killed while epoch 2's state is written: its curves are logged, its state is not.
    with pytest.MonkeyPatch.context() as patch:
        kill_when(patch, lambda state: "before-rename" if state["epoch"] == 2 else None)
        with pytest.raises(KeyboardInterrupt):
            train(data_dir, run_dir, epochs=3, tensorboard=True, **SETTINGS)
    summary = train(data_dir, run_dir, epochs=3, tensorboard=True, **SETTINGS)
    assert summary["ran"] == 2
    check_against_history(run_dir, 3)
    # Each epoch's own rate (it fell after epoch 2), not the optimizer's at logging time.
    rates = [v for _, v in scalars(run_dir / "tensorboard" / "train")["epoch_learning_rate"]]
    np.testing.assert_allclose(rates, [1e-2, 1e-2, 1e-3], rtol=1e-6)


def test_no_folder_without_the_option(data_dir, tmp_path, standin):
    train(data_dir, tmp_path / "run", epochs=1, **SETTINGS)
    assert not (tmp_path / "run" / "tensorboard").exists()
