"""Writing an epoch's best weights: ours (the model's weights alone) against
`model.save_weights` (which adds Adam's two moments once the optimizer is built), same run.

The full network, compiled and trained one step so that its optimizer is built,
as after every epoch of a run; each file written through a temporary file and a
rename (no fsync: mostly the page cache's time), best of --repeats. Claims: at
most 0.4 of the baseline's bytes and at most 0.7 of its time (the time depends
on the disk; the bytes do not), and the file loads back into an uncompiled model
as the same weights.

    python benchmarks/bench_saving.py [--repeats 3] [--size 64]
"""
import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import keras
import numpy as np

from attention_deeplab.files import atomic_path
from attention_deeplab.model import build_from_options, load_weights_into
from attention_deeplab.model.options import model_options
from attention_deeplab.training.run_folder import save_weights_atomic
from claims import check


def baseline(model, path):
    """What a run wrote before: the whole `model.save_weights` file, atomically."""
    with atomic_path(path, suffix=".weights.h5") as tmp:
        model.save_weights(tmp)


def best_of(write, model, path, repeats):
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        write(model, path)
        seconds.append(time.perf_counter() - start)
    return min(seconds), os.path.getsize(path)


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
        ours_path, base_path = Path(folder) / "ours.weights.h5", Path(folder) / "base.weights.h5"
        base_s, base_bytes = best_of(baseline, model, base_path, args.repeats)
        ours_s, ours_bytes = best_of(save_weights_atomic, model, ours_path, args.repeats)
        print(f"{keras.backend.backend()}: model.save_weights {base_s:.2f} s, {base_bytes / 1e6:.0f} MB; "
              f"ours {ours_s:.2f} s, {ours_bytes / 1e6:.0f} MB", flush=True)
        reloaded = build_from_options(options, weights=None, compile=False)
        load_weights_into(reloaded, ours_path)
        same = all(np.array_equal(a, b) for a, b in zip(model.get_weights(), reloaded.get_weights()))
    results = [check("best weights without the optimizer: bytes vs model.save_weights",
                     ours_bytes / base_bytes, 0.4, at_most=True),
               check("best weights without the optimizer: seconds vs model.save_weights",
                     ours_s / base_s, 0.7, at_most=True),
               check("best weights reload as the same weights", float(same), 1.0, unit="")]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
