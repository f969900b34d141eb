"""`--tensorboard`: the epochs of history.csv as TensorBoard curves in <run>/tensorboard/.

Keras's own TensorBoard callback writes them (train/ and validation/ event files,
one scalar per epoch and metric: the losses, Dice, accuracy, the learning rate and
the epoch's seconds by part). The loop calls `fit` one epoch at a time and
validates outside it, so the callback is handed each finished history row rather
than passed to `fit`.

A resumed run rewrites the folder from the resume state's history, then goes on:
epochs run after the last saved state, and lost with a kill, leave no duplicate steps.
"""
import shutil
from pathlib import Path

import keras

TENSORBOARD_DIR = "tensorboard"
LOGGED = ("loss", "accuracy", "dice", "val_loss", "val_accuracy", "val_dice")


class _RowBoard(keras.callbacks.TensorBoard):
    # The row's learning rate is its epoch's; the optimizer's now may be a later one
    # (a replayed epoch, or after the schedule's reduction at this epoch's end).
    def _collect_learning_rate(self, logs):
        return logs


def row_logs(row):
    """The scalars of one history row: metrics, learning rate, seconds by part."""
    logs = {key: float(row[key]) for key in LOGGED if row.get(key) is not None}
    logs["learning_rate"] = float(row["lr"])
    logs.update({key: float(value) for key, value in row.items()
                 if key.startswith("seconds") and value is not None})
    return logs


class EpochBoard:
    """Writes each finished epoch's row to <run>/tensorboard/ (on the writer worker only).

    Args:
        run_dir: Path. The run folder.
        model: keras.Model. The model trained (the callback's model).
        history: list of dict. The rows of the epochs already saved (a resumed run).
    """

    def __init__(self, run_dir, model, history):
        folder = Path(run_dir) / TENSORBOARD_DIR
        shutil.rmtree(folder, ignore_errors=True)  # rebuilt from the saved history below
        self.callback = _RowBoard(log_dir=str(folder), write_graph=False,
                                  update_freq="epoch", profile_batch=0)
        self.callback.set_model(model)
        for row in history:
            self.callback.on_epoch_end(int(row["epoch"]) - 1, row_logs(row))
        self.flush()

    def log(self, row):
        """One finished epoch (its 1-based number is the row's), flushed for a live view."""
        self.callback.on_epoch_end(int(row["epoch"]) - 1, row_logs(row))
        self.flush()

    def flush(self):
        # The callback's writers (a private dict: Keras has no public flush).
        for writer in self.callback._writers.values():
            writer.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for writer in self.callback._writers.values():
            writer.close()
