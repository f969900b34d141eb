"""Training throughput at 256x256: images/s of the full and the reduced network,
and the cost of our data pipeline (memory-mapped uint8 arrays, a PyDataset,
per-batch normalisation) against `fit` on in-memory float32 arrays.

Both pipelines train the same compiled model in the same process, alternately,
after a warm-up epoch each (so tracing is excluded); ours with the loader
settings training uses (two worker threads). The best of `--repeats` epochs of
each counts. Claim: ours / in-memory >= 0.95.

    python benchmarks/bench_train.py                      # reduced network, short
    python benchmarks/bench_train.py --models full --steps 4 --repeats 3   # ~6 min on 2 cores
"""
import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from attention_deeplab.data.loader import (  # noqa: E402
    ArraySequence, load_split, normalize_images, normalize_masks)
from attention_deeplab.training.callbacks import NanGuard  # noqa: E402
from attention_deeplab.training.loop import LOADER_QUEUE  # noqa: E402
from attention_deeplab.training.setup import build_model  # noqa: E402


def write_arrays(folder, count, size):
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:size, :size]
    images = rng.integers(150, 220, (count, size, size, 3)).astype(np.uint8)
    masks = np.zeros((count, size, size), np.uint8)
    for i in range(count):
        cy, cx, r = rng.integers(size // 4, 3 * size // 4, 3)
        disc = (yy - cy) ** 2 + (xx - cx) ** 2 < (r // 2) ** 2
        images[i][disc] -= 100
        masks[i][disc] = 255
    for split in ("train", "val"):
        np.save(folder / f"data_{split}.npy", images)
        np.save(folder / f"mask_{split}.npy", masks)
    # what Prepare writes last; the loader refuses uint8 arrays without it
    manifest = {"dataset": "isic2018", "fingerprint": "benchmark"}
    (folder / "split.json").write_text(json.dumps(manifest))


def epoch_seconds(fit):
    start = time.perf_counter()
    fit()
    return time.perf_counter() - start


def measure(preset, folder, batch, repeats):
    """(ours, in-memory) images/s of one preset.

    Both fits run as a training's do, with a per-batch callback (our NaN
    check; the original's progress bar did the same): without any, TensorFlow's
    in-memory `fit` idled ~9 s per call here, which would flatter our ratio.
    """
    images, masks = load_split(folder, "train")
    model = build_model({"input_shape": list(images.shape[1:]), "preset": preset}, None, None, 1e-4)
    seq = ArraySequence(images, masks, batch, shuffle=True, seed=0, **LOADER_QUEUE)
    x, y = normalize_images(images[:]), normalize_masks(masks[:])

    def ours():
        seq.epoch += 1
        model.fit(seq, epochs=1, shuffle=False, verbose=0, callbacks=[NanGuard()])

    def in_memory():
        model.fit(x, y, batch_size=batch, epochs=1, shuffle=True, verbose=0,
                  callbacks=[NanGuard()])

    ours(), in_memory()  # warm-up: traces the train step for both input paths
    times = {"ours": [], "in_memory": []}
    for _ in range(repeats):
        times["ours"].append(epoch_seconds(ours))
        times["in_memory"].append(epoch_seconds(in_memory))
    return len(images) / min(times["ours"]), len(images) / min(times["in_memory"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="tiny", help="comma-separated presets: tiny,full")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=7)
    # PH2's epoch (80 images, batch 7), the shortest of the paper's datasets: the
    # loader's start-up at each epoch weighs most there.
    parser.add_argument("--steps", type=int, default=12, help="steps per timed epoch")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    import keras

    print(f"backend {keras.backend.backend()}, {args.size}x{args.size}, batch {args.batch_size}, "
          f"{args.steps} steps an epoch, best of {args.repeats}")
    with tempfile.TemporaryDirectory(prefix="bench_train_") as tmp:
        write_arrays(Path(tmp), args.batch_size * args.steps, args.size)
        for preset in args.models.split(","):
            ours, base = measure(preset, Path(tmp), args.batch_size, args.repeats)
            print(f"{preset:>5}: ours {ours:7.2f} images/s, in-memory float32 {base:7.2f} images/s, "
                  f"ratio {ours / base:.3f} (claim >= 0.95)", flush=True)


if __name__ == "__main__":
    main()
