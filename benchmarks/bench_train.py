"""Training throughput at 256x256: images/s of the full and the reduced network,
and the cost of our data pipeline (memory-mapped uint8 arrays, a PyDataset,
per-batch normalisation) against `fit` on in-memory float32 arrays.

Both pipelines train the same compiled model in the same process, alternately,
after a warm-up epoch each (so tracing is excluded); ours with the loader
settings training uses (two worker threads). The best of `--repeats` epochs of
each counts. Claim: ours / in-memory >= 0.95 in steady-state images/s; the
whole `fit` call (start-up and end included) is printed beside it.

    python benchmarks/bench_train.py                      # reduced network, short
    python benchmarks/bench_train.py --models full --steps 20 --repeats 2   # ~15 min on 2 cores
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path

import keras
import numpy as np

from attention_deeplab.data.disc_arrays import write_disc_arrays
from attention_deeplab.data.loader import (
    ArraySequence, load_split, normalize_images, normalize_masks)
from attention_deeplab.training.loop import LOADER_QUEUE
from attention_deeplab.training.model_setup import build_model
from claims import check


class StepClock(keras.callbacks.Callback):
    """Times one `fit` call: its start, each step's end, and its return."""

    def on_train_begin(self, logs=None):
        self.marks = [time.perf_counter()]

    def on_train_batch_end(self, batch, logs=None):
        float(logs["loss"])  # waits for the step, as a training's per-batch checks do
        self.marks.append(time.perf_counter())


# Steps left out of the steady state: the loader's queue (and tf.data's prefetch)
# fills during the first steps, so their batches were made before the timed window.
PRIMING_STEPS = LOADER_QUEUE["max_queue_size"] + 1


def timed_fit(fit):
    """(seconds per step once the queue is primed, seconds of the whole call) of one `fit`."""
    clock = StepClock()
    start = time.perf_counter()
    fit(clock)
    total = time.perf_counter() - start
    steps = np.diff(clock.marks[1 + PRIMING_STEPS:])
    return float(np.mean(steps)), total


def measure(preset, folder, batch, repeats):
    """Seconds per step and per `fit` call of our pipeline and of in-memory arrays.

    Steady-state steps (those after the first PRIMING_STEPS of each epoch, so
    that each of their batches is made while the model trains) are the
    pipeline's cost the claim is about; the whole call adds each epoch's start-up and
    end. Both are reported: TensorFlow's in-memory `fit` here often idled 9-18 s
    after its last step on the full network (a cost of the call, not of the
    data path), which flatters the whole-call ratio there.
    """
    images, masks = load_split(folder, "train")
    model = build_model({"input_shape": list(images.shape[1:]), "preset": preset}, None, None, 1e-4)
    seq = ArraySequence(images, masks, batch, shuffle=True, seed=0, **LOADER_QUEUE)
    x, y = normalize_images(images[:]), normalize_masks(masks[:])

    def ours(clock):
        seq.epoch += 1
        model.fit(seq, epochs=1, shuffle=False, verbose=0, callbacks=[clock])

    def in_memory(clock):
        model.fit(x, y, batch_size=batch, epochs=1, shuffle=True, verbose=0, callbacks=[clock])

    timed_fit(ours), timed_fit(in_memory)  # warm-up: traces the train step for both input paths
    times = {"ours": [], "in_memory": []}
    for _ in range(repeats):
        times["ours"].append(timed_fit(ours))
        times["in_memory"].append(timed_fit(in_memory))
    return {name: (min(t[0] for t in runs), min(t[1] for t in runs))
            for name, runs in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="tiny", help="comma-separated presets: tiny,full")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=7)
    parser.add_argument("--steps", type=int, default=40,
                        help=f"steps per timed epoch (at least {PRIMING_STEPS + 2}: the first "
                             f"{PRIMING_STEPS} fill the loader's queue)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    if args.steps < PRIMING_STEPS + 2:
        parser.error(f"--steps must be at least {PRIMING_STEPS + 2}, got {args.steps}")
    print(f"backend {keras.backend.backend()}, {args.size}x{args.size}, batch {args.batch_size}, "
          f"{args.steps} steps an epoch, best of {args.repeats}")
    with tempfile.TemporaryDirectory(prefix="bench_train_") as tmp:
        count = args.batch_size * args.steps
        write_disc_arrays(tmp, {"train": count, "val": count}, args.size, fingerprint="benchmark")
        holds = []
        for preset in args.models.split(","):
            result = measure(preset, Path(tmp), args.batch_size, args.repeats)
            (ours, ours_call), (base, base_call) = result["ours"], result["in_memory"]
            print(f"{preset:>5}: steady state ours {args.batch_size / ours:7.2f} images/s, "
                  f"in-memory float32 {args.batch_size / base:7.2f} images/s, "
                  f"ratio {base / ours:.3f} (claim >= 0.95); whole fit call of "
                  f"{args.steps} steps: ours {ours_call:.2f} s, in-memory {base_call:.2f} s, "
                  f"ratio {base_call / ours_call:.3f}", flush=True)
            holds.append(check(f"{preset} preset: training pipeline's steady-state speed "
                               "against fit on in-memory float32", base / ours, 0.95))
    return 0 if all(holds) else 1


if __name__ == "__main__":
    sys.exit(main())
