"""What a run folder holds besides `config.json`: the resume state and the history.

The state of the last finished epoch (weights, optimizer variables,
learning-rate schedule, best-so-far, history) is written into a fresh
`state-<epoch>/` folder, then `state.json`, which names it, replaces the
previous one by an atomic rename. A kill at any moment therefore leaves the
previous epoch's state or the new one, never a mixture; `history.csv` is
rewritten from that state, so it has no gap and no duplicate. The state is
written every few minutes rather than every epoch (state_schedule.py), so each
one also holds a hard link to that epoch's `best.weights.h5`, which resuming
puts back: the best weights always belong to the state resumed from.
"""
import csv
import hashlib
import io
import os
import shutil
import zipfile
from pathlib import Path

import keras
import numpy as np

from attention_deeplab.digests import embed_weights_digest
from attention_deeplab.errors import TrainingError
from attention_deeplab.files import (
    atomic_path, make_temporary, read_json, write_json_atomic, write_text_atomic)
from attention_deeplab.locations import BEST_WEIGHTS, CURVES_NAME, HISTORY_NAME, STATE_NAME
from attention_deeplab.run_config import CONFIG_NAME
from attention_deeplab.training.host_weights import HostWeights

WEIGHTS, OPTIMIZER = "model.weights.h5", "optimizer.npz"  # in state-<epoch>/
HISTORY_COLUMNS = ("epoch", "loss", "val_loss", "accuracy", "dice",
                   "val_accuracy", "val_dice", "lr", "seconds", "seconds_steps",
                   "seconds_precise_bn", "seconds_validation", "seconds_saving",
                   "backend")  # each epoch's: a run may resume on another backend


def check_compatible(saved, config, run_dir):
    """Raises TrainingError, one line naming each differing option, when the
    RunConfigs `saved` and `config` describe different runs (run_config.RESUMABLE_KEYS)."""
    changed = saved.differences(config)
    if changed:
        diffs = "; ".join(f"{name}: {there!r} there, {now!r} now" for name, there, now in changed)
        raise TrainingError(
            f"{run_dir} holds a different run ({diffs}): pass --overwrite to "
            "start it again, or choose another --run-dir")


def clear_run(run_dir):
    """Removes a previous run's files (for --overwrite), and nothing else."""
    run_dir = Path(run_dir)
    for name in (CONFIG_NAME, STATE_NAME, HISTORY_NAME, BEST_WEIGHTS, CURVES_NAME):
        (run_dir / name).unlink(missing_ok=True)
    for folder in run_dir.glob("state-*"):
        shutil.rmtree(folder, ignore_errors=True)


def _skipping_optimizer(function, model, path):
    """`keras.saving.save_weights` or `load_weights` of the model's own weights only.

    Once its optimizer is built, Keras puts Adam's two moments into a model's
    weights file too: 689 MB instead of 231 MB for the full network, written
    after every epoch whose validation loss improves. Inference never reads them,
    and the resume state keeps the optimizer in its own optimizer.npz.
    """
    optimizer = getattr(model, "optimizer", None)
    function(model, path, objects_to_skip=None if optimizer is None else [optimizer])


def save_model_weights(model, path):
    """The model's weights, not its optimizer's, to a `.weights.h5` file.

    Args:
        model: keras.Model, or HostWeights: a copy of its weights taken earlier.
        path: str or Path. The file, named `*.weights.h5`.
    """
    if isinstance(model, HostWeights):
        model.save_weights(path, skip_optimizer=True)
    else:
        _skipping_optimizer(keras.saving.save_weights, model, path)


def save_weights_atomic(model, path):
    """`save_model_weights` (of a model or HostWeights) through a temporary file and a
    rename, with the sha256 of its bytes inside it (digests.py: the file and its check
    are renamed in one step)."""
    with atomic_path(path, suffix=".weights.h5") as tmp:
        save_model_weights(model, tmp)
        embed_weights_digest(tmp)


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def save_state(run_dir, model, state):
    """Writes the resume state of the epoch `state["epoch"]` (number of epochs finished).

    Args:
        run_dir: Path. The run folder.
        model: keras.Model, compiled, whose optimizer is built; or HostWeights with
            the optimizer, copied from it (what the background writer writes from).
        state: dict, JSON-able: epoch, history, lr_schedule, best.
    """
    run_dir = Path(run_dir)
    if not isinstance(model, HostWeights):
        model = HostWeights(model, optimizer=True)
    folder = run_dir / f"state-{state['epoch']:04d}"
    shutil.rmtree(folder, ignore_errors=True)  # left by a kill during its writing
    folder.mkdir(parents=True)
    save_model_weights(model, folder / WEIGHTS)
    with open(folder / OPTIMIZER, "wb") as stream:
        np.savez(stream, **{f"{i:04d}": a for i, a in enumerate(model.optimizer_arrays)})
        stream.flush()
        os.fsync(stream.fileno())
    best = run_dir / BEST_WEIGHTS
    if best.is_file():
        _link_or_copy(best, folder / BEST_WEIGHTS)
    # HDF5 keeps no checksum of its values: a damaged byte would resume silently.
    # (optimizer.npz is a zip, whose CRCs numpy checks on reading.)
    write_json_atomic(run_dir / STATE_NAME, {**state, "folder": folder.name,
                                             "weights_sha256": _sha256(folder / WEIGHTS)})
    for old in run_dir.glob("state-*"):
        if old != folder:
            shutil.rmtree(old, ignore_errors=True)


def _link_or_copy(source, target):
    """A hard link (no bytes copied), or a copy where the file system has none."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _restore_best(run_dir, folder):
    """Puts back the state's best weights, when the run's differ (written after it)."""
    saved, best = folder / BEST_WEIGHTS, Path(run_dir) / BEST_WEIGHTS
    if not saved.is_file() or (best.is_file() and os.path.samefile(saved, best)):
        return
    handle, tmp = make_temporary(best, suffix=".weights.h5")
    os.close(handle)
    os.unlink(tmp)
    _link_or_copy(saved, tmp)
    os.replace(tmp, best)


def read_state(run_dir):
    """The saved resume state (a dict) or None when no epoch has finished."""
    path = Path(run_dir) / STATE_NAME
    state = read_json(path, error=TrainingError, hint=": pass --overwrite to start again")
    if state is not None and not (isinstance(state, dict) and isinstance(state.get("folder"), str)):
        raise TrainingError(f"{path} is damaged (it names no state folder): pass --overwrite "
                            "to start again")
    return state


def _damaged(path, reason):
    reason = str(reason).splitlines()[0] if str(reason) else type(reason).__name__
    return TrainingError(f"cannot resume from {path}, which is damaged ({reason}): pass "
                         "--overwrite to start again")


def restore_state(run_dir, model, state, writer=True):
    """Loads the weights and optimizer variables that `state` names into `model`, and
    (for the `writer`: the chief of several workers) puts back the state's best weights."""
    folder = Path(run_dir) / state["folder"]
    optimizer = model.optimizer
    if not optimizer.built:  # so that its variables exist to be assigned
        optimizer.build(model.trainable_variables)
    expected = state.get("weights_sha256")  # absent from states written before it
    if expected and (folder / WEIGHTS).is_file() and _sha256(folder / WEIGHTS) != expected:
        raise _damaged(folder / WEIGHTS, "its checksum differs from the one in state.json")
    path = folder / WEIGHTS
    try:
        # States written before save_model_weights hold the optimizer here too.
        _skipping_optimizer(keras.saving.load_weights, model, path)
        path = folder / OPTIMIZER
        with np.load(path) as arrays:
            saved = [arrays[key] for key in sorted(arrays.files)]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        raise _damaged(path, error) from error
    variables = optimizer.variables
    if len(saved) != len(variables) or any(
            tuple(a.shape) != tuple(v.shape) for a, v in zip(saved, variables)):
        raise TrainingError(f"the optimizer state in {folder} does not fit this model: "
                            "pass --overwrite to start again")
    for variable, value in zip(variables, saved):
        variable.assign(value)
    if writer:
        _restore_best(run_dir, folder)


def history_matches(run_dir, history):
    """Whether history.csv holds `history`'s rows, timing columns aside (the state's copy
    lacks the state's own writing time); False when it is missing, cut or damaged."""
    def text(value):
        return "" if value is None else str(value)

    kept = [key for key in HISTORY_COLUMNS if not key.startswith("seconds")]
    try:
        with open(Path(run_dir) / HISTORY_NAME, newline="") as stream:
            rows = list(csv.DictReader(stream))
    except (OSError, UnicodeDecodeError, csv.Error):
        return False
    return len(rows) == len(history) and all(
        text(row.get(key)) == text(entry.get(key)) for row, entry in zip(rows, history)
        for key in kept)


def write_history(run_dir, history):
    """Rewrites `history.csv` from the list of epoch rows, atomically."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=HISTORY_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(history)
    write_text_atomic(Path(run_dir) / HISTORY_NAME, text.getvalue(), sync=False)
