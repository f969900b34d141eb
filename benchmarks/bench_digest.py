"""What checking the digests costs: the arrays' sha256 (split.json) at a training start and
the best weights' (their last line) at an inference start, against those starts, same run.

Arrays of ISIC 2018's size at 256x256 (1815 training and 259 validation images, uint8,
544 MB with their masks) are written by Prepare's own writer, which records their
sha256. Measured, best of --repeats:
- the check: `load_training_data` with the digests in split.json minus without them,
  with the files in the page cache (the CPU's cost; the check is then the arrays' first
  read) and evicted from it (`posix_fadvise`: the disk's read too, which the first epoch
  would otherwise do);
- a training start (the baseline): `load_training_data` without digests, building and
  compiling the full network from scratch, and its first training step at batch 7;
- the best weights' check (`check_weights_digest`: the sha256 of the file's 231 MB)
  against an inference start: building the full network and `load_weights_into` it
  (its check included), with the file in the page cache as after training.
Claims: each check costs at most 5% of its start.

    python benchmarks/bench_digest.py [--repeats 3] [--size 256]
"""
import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import keras
import numpy as np

from attention_deeplab.data.loader import ArraySequence
from attention_deeplab.data.writer import MANIFEST, AtomicSet, build_manifest
from attention_deeplab.digests import check_weights_digest
from attention_deeplab.model import build_from_options, load_weights_into
from attention_deeplab.model.options import model_options
from attention_deeplab.training.data import load_training_data
from attention_deeplab.training.model_setup import build_model
from attention_deeplab.training.run_folder import save_weights_atomic
from claims import check

SIZES = {"train": 1815, "val": 259, "test": 1}  # ISIC 2018 (test: not read at a start)
BATCH = 7  # the paper's


def write_arrays(folder, side):
    """Noise images and masks through Prepare's writer; split.json with their sha256."""
    rng = np.random.default_rng(0)
    ids = {split: [f"ISIC_{split}_{i:04d}" for i in range(n)] for split, n in SIZES.items()}
    with AtomicSet(folder, SIZES, (side, side)) as arrays:
        for split, count in SIZES.items():
            for row in range(count):
                arrays.write(split, row, rng.bytes(side * side * 3), rng.bytes(side * side))
        arrays.commit(build_manifest("isic2018", folder, 0, (side, side), ids))


def evict(folder):
    """Drops the arrays' pages from the page cache (clean pages: no privilege needed)."""
    for path in folder.glob("*.npy"):
        with open(path, "rb") as stream:
            os.posix_fadvise(stream.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)


def timed(function, repeats, before=lambda: None):
    """Best of `repeats` seconds of `function()`, each after `before()`."""
    seconds = []
    for _ in range(repeats):
        before()
        start = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - start)
    return min(seconds)


def array_checks(folder, repeats):
    """(seconds of the check, warm; cold) as load_training_data with minus without digests."""
    manifest_path = folder / MANIFEST
    with_digests = manifest_path.read_text()
    without = json.dumps({k: v for k, v in json.loads(with_digests).items() if k != "sha256"})
    load = lambda: load_training_data(folder, BATCH)  # noqa: E731
    seconds = {}
    for cache, before in (("warm", load), ("cold", lambda: evict(folder))):
        for name, text in (("with", with_digests), ("without", without)):
            manifest_path.write_text(text)
            seconds[cache, name] = timed(load, repeats, before)
    manifest_path.write_text(with_digests)
    print(f"load_training_data, page cache warm: {seconds['warm', 'with']:.3f} s with the "
          f"digests, {seconds['warm', 'without']:.3f} s without; cold: "
          f"{seconds['cold', 'with']:.3f} s vs {seconds['cold', 'without']:.3f} s", flush=True)
    return (seconds["warm", "with"] - seconds["warm", "without"],
            seconds["cold", "with"] - seconds["cold", "without"])


def training_start(folder, side):
    """Seconds from the arrays to the end of the full network's first step at batch 7
    (without the digests' check); returns them and the trained model."""
    start = time.perf_counter()
    splits = load_training_data(folder, BATCH)
    model = build_model(model_options((side, side, 3)), None, None, 1e-4)
    x, y = ArraySequence(*splits["train"], BATCH, shuffle=True, seed=0)[0]
    model.train_on_batch(x, y)
    return time.perf_counter() - start, model


def weights_check(model, folder, side, repeats):
    """(seconds of the best weights' check, seconds of an inference start)."""
    path = folder / "best.weights.h5"
    save_weights_atomic(model, path)
    start = time.perf_counter()
    fresh = build_from_options(model_options((side, side, 3)), weights=None, compile=False)
    load_weights_into(fresh, path)
    inference_start = time.perf_counter() - start
    seconds = timed(lambda: check_weights_digest(path), repeats)
    print(f"best weights ({path.stat().st_size / 1e6:.0f} MB): check {seconds:.3f} s; "
          f"inference start (build, load, check) {inference_start:.1f} s", flush=True)
    return seconds, inference_start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--size", type=int, default=256, help="image side")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_arrays(folder, args.size)
        size = sum(p.stat().st_size for p in folder.glob("*_t*.npy")) + \
            sum(p.stat().st_size for p in folder.glob("*_val.npy"))
        print(f"{keras.backend.backend()}: arrays {size / 1e6:.0f} MB", flush=True)
        warm, cold = array_checks(folder, args.repeats)
        start, model = training_start(folder, args.size)
        print(f"training start (arrays, full network built and compiled, first step at "
              f"batch {BATCH}): {start:.1f} s; the arrays' check {warm:.3f} s warm, "
              f"{cold:.3f} s cold", flush=True)
        weights, inference = weights_check(model, folder, args.size, args.repeats)
    results = [check("checking the arrays' sha256 (page cache warm) vs a training start",
                     warm / start, 0.05, at_most=True),
               check("checking the arrays' sha256 (read from disk) vs a training start",
                     cold / start, 0.05, at_most=True),
               check("checking best.weights.h5's sha256 vs an inference start",
                     weights / inference, 0.05, at_most=True)]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
