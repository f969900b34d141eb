"""How long an epoch's saving blocks the training loop: in the background (a host
copy of the weights, handed to the writer thread) against writing the same files
synchronously, same run.

The full network, compiled and trained one step so that its optimizer is built,
as after every epoch of a run. Each save writes what an epoch that improves
val_loss and whose resume state is due writes: best.weights.h5 and the state
(model weights, Adam's moments, state.json), whole and renamed, fsync'd as in a
run. Best of --repeats. Claims: the loop blocked at most 0.1 of the synchronous
save's time, and the files written in the background load back as the model's
weights and optimizer variables.

    python benchmarks/bench_saving.py [--repeats 3] [--size 64]
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path

import keras
import numpy as np

from attention_deeplab.locations import BEST_WEIGHTS
from attention_deeplab.model import build_from_options, load_weights_into
from attention_deeplab.model.options import model_options
from attention_deeplab.training.background_writer import EpochSaver
from attention_deeplab.training.run_folder import read_state, restore_state, save_state, save_weights_atomic
from claims import check


def epoch_state(epoch):
    """A resume state's JSON part, as after `epoch` epochs."""
    row = {"epoch": epoch, "loss": 0.5, "val_loss": 0.4, "lr": 1e-4}
    return {"epoch": epoch, "history": [dict(row, epoch=e) for e in range(1, epoch + 1)],
            "best": {"val_loss": 0.4, "epoch": epoch},
            "lr_schedule": {"best": 0.4, "wait": 0, "cooldown_counter": 0}}


def synchronous(model, run_dir, repeats):
    """Seconds of each save written in the loop's thread, as before."""
    seconds = []
    for epoch in range(1, repeats + 1):
        start = time.perf_counter()
        save_weights_atomic(model, run_dir / BEST_WEIGHTS)
        save_state(run_dir, model, epoch_state(epoch))
        seconds.append(time.perf_counter() - start)
    return seconds


def background(model, run_dir, repeats):
    """Seconds the loop is blocked by each save (as `loop._save_epoch`), and the
    seconds until the writer has finished it."""
    blocked, written = [], []
    with EpochSaver(run_dir) as saver:
        for epoch in range(1, repeats + 1):
            start = time.perf_counter()
            saver.wait()  # the previous save: finished below, as after a longer epoch
            weights = saver.copy_weights(model, best=True, state=True)
            saver.write(weights, epoch_state(epoch), best=True, due=True, final=False)
            blocked.append(time.perf_counter() - start)
            saver.wait()
            written.append(time.perf_counter() - start)
    return blocked, written


def reloads(model, options, run_dir):
    """Whether best.weights.h5 and the state written in the background hold the model's
    weights and optimizer variables."""
    best = build_from_options(options, weights=None, compile=False)
    load_weights_into(best, run_dir / BEST_WEIGHTS)
    resumed = build_from_options(options, weights=None)
    restore_state(run_dir, resumed, read_state(run_dir))
    pairs = [*zip(model.get_weights(), best.get_weights()),
             *zip(model.get_weights(), resumed.get_weights()),
             *zip(model.optimizer.variables, resumed.optimizer.variables)]
    return all(np.array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))
               for a, b in pairs)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--size", type=int, default=64, help="input side (weights do not depend on it)")
    args = parser.parse_args(argv)
    options = model_options((args.size, args.size, 3))
    model = build_from_options(options, weights=None)
    batch = np.zeros((2, args.size, args.size, 3), np.float32)
    model.train_on_batch(batch, np.zeros((2, args.size, args.size, 1), np.float32))
    with tempfile.TemporaryDirectory() as folder:
        sync_dir, back_dir = Path(folder) / "sync", Path(folder) / "background"
        sync_dir.mkdir()
        back_dir.mkdir()
        sync_s = min(synchronous(model, sync_dir, args.repeats))
        blocked, written = background(model, back_dir, args.repeats)
        same = reloads(model, options, back_dir)
    print(f"{keras.backend.backend()}: an epoch's saving (best weights and resume state): "
          f"synchronous {sync_s:.2f} s; in the background the loop blocked {min(blocked):.3f} s, "
          f"written after {min(written):.2f} s", flush=True)
    results = [check("an epoch's saving: seconds the loop is blocked vs a synchronous save",
                     min(blocked) / sync_s, 0.1, at_most=True),
               check("best weights and state written in the background reload as the same",
                     float(same), 1.0, unit="")]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
