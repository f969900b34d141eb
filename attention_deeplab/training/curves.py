"""Figures of a training run."""
from pathlib import Path

# A Figure without pyplot draws to files on machines without a display, and
# leaves the caller's matplotlib backend alone (a notebook keeps its inline plots).
from matplotlib.figure import Figure

from attention_deeplab.files import atomic_path


def _column(history, key):
    return [float(row[key]) if row.get(key) not in (None, "") else float("nan")
            for row in history]


def plot_training_curves(history, path):
    """Draws loss, Dice and learning rate per epoch, and writes them to `path` atomically.

    Args:
        history: list of dicts with "epoch", "loss", "val_loss", "dice",
            "val_dice", "lr" (the rows of history.csv).
        path: str or Path. A .png file, replaced as a whole.
    """
    path = Path(path)
    epochs = [int(row["epoch"]) for row in history]
    figure = Figure(figsize=(13, 3.6))
    loss_ax, dice_ax, lr_ax = figure.subplots(1, 3)
    for key, label in (("loss", "training"), ("val_loss", "validation")):
        loss_ax.plot(epochs, _column(history, key), marker=".", label=label)
    loss_ax.set(title="Binary cross-entropy", xlabel="epoch")
    for key, label in (("dice", "training"), ("val_dice", "validation")):
        dice_ax.plot(epochs, _column(history, key), marker=".", label=label)
    dice_ax.set(title="Dice (pooled, threshold 0.5)", xlabel="epoch", ylim=(0, 1))
    lr_ax.plot(epochs, _column(history, "lr"), marker=".")
    lr_ax.set(title="Learning rate", xlabel="epoch", yscale="log")
    for axis in (loss_ax, dice_ax):
        axis.legend()
    figure.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        figure.savefig(tmp, dpi=100)
