"""Training images/s of the reduced model on each Keras 3 backend, as ratios to TensorFlow.

Each backend runs in its own process (KERAS_BACKEND is read once, at import), one
after the other on the same machine, with the same model, data and steps:

    python benchmarks/bench_backends.py                       # tiny preset, 128x128
    python benchmarks/bench_backends.py --backends tensorflow,jax --steps 20

TensorFlow is the baseline, measured in the same run; each other backend's claim
is its speed as a ratio to TensorFlow's, at least MIN_RATIO. A backend whose package
is not installed is skipped with the reason printed (`make bench` installs jax and
torch first); one that is installed but fails to train fails its claim.
"""
import argparse
import importlib.util
import json
import os
import sys

from claims import check, run_python

MIN_RATIO = 0.25  # README: every engine trains at least this fast relative to TensorFlow
PACKAGES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}


def pin_one_thread(backend):
    """Each engine on one thread, so that the ratio compares the engines, not how
    each one's thread pool copes with a busy machine (PyTorch's and XLA's spinning
    workers fell 20-200x behind TensorFlow's under a load of 20 on 2 cores)."""
    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    elif backend == "torch":
        import torch

        torch.set_num_threads(1)


def child(size, batch, steps, repeats, one_thread):
    """Times `repeats` rounds of `steps` training steps of the tiny preset in this
    process's backend; the best round counts (a shared machine's slow spells)."""
    import time

    import keras
    import numpy as np

    from attention_deeplab.model import build_from_options

    if one_thread:
        pin_one_thread(keras.backend.backend())

    options = {"input_shape": [size, size, 3], "preset": "tiny", "attention": True,
               "output_stride": 16}
    model = build_from_options(options, weights=None)
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (batch, size, size, 3)).astype("float32")
    y = (rng.uniform(size=(batch, size, size, 1)) > 0.7).astype("float32")
    for _ in range(2):  # tracing and compilation
        model.train_on_batch(x, y)
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            model.train_on_batch(x, y)
        best = max(best, batch * steps / (time.perf_counter() - start))
    print(json.dumps({"images_per_s": best}))


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="tensorflow,jax,torch")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--steps", type=int, default=10, help="timed training steps a round")
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds; the best counts")
    parser.add_argument("--all-threads", action="store_true",
                        help="each engine's default thread pools (default: one thread each)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--one-thread", action="store_true", help=argparse.SUPPRESS)
    return parser


def measure(backend, args):
    """Training images/s on `backend`, or None with the reason when it cannot run."""
    env = {"KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    if not args.all_threads:  # read when the engine starts, so set before it does
        env.update(OMP_NUM_THREADS="1", XLA_FLAGS=(os.environ.get("XLA_FLAGS", "") + " "
                   "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"))
    status, out, err = run_python(__file__, "--child", "--size", args.size, "--batch-size",
                                  args.batch_size, "--steps", args.steps, "--repeats",
                                  args.repeats, *([] if args.all_threads else ["--one-thread"]),
                                  env=env)
    if status != 0:
        return None, err.strip().splitlines()[-1] if err.strip() else "failed"
    return json.loads(out.strip().splitlines()[-1])["images_per_s"], ""


def claims(results):
    """One claim per backend other than TensorFlow: its speed over TensorFlow's."""
    base = results.get("tensorflow", (None, ""))[0]
    holds = [check("TensorFlow (the baseline) trains the tiny preset", float(base is not None),
                   1.0, unit="")] if "tensorflow" in results else []
    for backend, (speed, _) in results.items():
        if backend != "tensorflow":
            ratio = speed / base if speed is not None and base else 0.0
            holds.append(check(f"{backend}'s training images/s over TensorFlow's (tiny preset, "
                               "CPU)", ratio, MIN_RATIO))
    return holds


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.child:
        return child(args.size, args.batch_size, args.steps, args.repeats, args.one_thread)
    results = {}
    for backend in args.backends.split(","):
        if importlib.util.find_spec(PACKAGES.get(backend, backend)) is None:
            print(f"{backend}: skipped, its package is not installed "
                  "(pip install -r requirements-backends.txt; make bench does)", flush=True)
            continue
        results[backend] = measure(backend, args)
        print(f"{backend}: {results[backend][0] or results[backend][1]}", flush=True)
    base = results.get("tensorflow", (None, ""))[0]
    print(f"\ntiny preset, {args.size}x{args.size}, batch {args.batch_size}, "
          f"best of {args.repeats} rounds of {args.steps} steps, "
          f"{'all' if args.all_threads else 'one'} of {os.cpu_count()} CPU threads")
    print("| backend | train img/s | ratio to tensorflow |")
    print("|---|---|---|")
    for backend, (speed, why) in results.items():
        if speed is None:
            print(f"| {backend} | not run: {why} | |")
        else:
            print(f"| {backend} | {speed:.1f} | {speed / base:.2f} |" if base else
                  f"| {backend} | {speed:.1f} | |")
    return 0 if all(claims(results)) else 1


if __name__ == "__main__":
    sys.exit(main())
