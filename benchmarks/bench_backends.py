"""Training images/s of the reduced model on each Keras 3 backend, as ratios to TensorFlow.

Each backend runs in its own process (KERAS_BACKEND is read once, at import), one
after the other on the same machine, with the same model, data and steps:

    python benchmarks/bench_backends.py                       # tiny preset, 128x128
    python benchmarks/bench_backends.py --backends tensorflow,jax --steps 20

A backend whose package is not installed (`make test-backends` installs jax and
torch) is reported as such, not counted.
"""
import argparse
import json
import os
import sys

from claims import check, run_python


def child(size, batch, steps):
    """Times `steps` training steps of the tiny preset in this process's backend."""
    import time

    import numpy as np

    from attention_deeplab.model import build_from_options

    options = {"input_shape": [size, size, 3], "preset": "tiny", "attention": True,
               "output_stride": 16}
    model = build_from_options(options, weights=None)
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (batch, size, size, 3)).astype("float32")
    y = (rng.uniform(size=(batch, size, size, 1)) > 0.7).astype("float32")
    for _ in range(2):  # tracing and compilation
        model.train_on_batch(x, y)
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    print(json.dumps({"images_per_s": batch * steps / (time.perf_counter() - start)}))


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="tensorflow,jax,torch")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--steps", type=int, default=10, help="timed training steps")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return parser


def measure(backend, size, batch_size, steps):
    """Training images/s on `backend`, or None with the reason when it cannot run."""
    status, out, err = run_python(__file__, "--child", "--size", size, "--batch-size", batch_size,
                                  "--steps", steps,
                                  env={"KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"})
    if status != 0:
        return None, err.strip().splitlines()[-1] if err.strip() else "failed"
    return json.loads(out.strip().splitlines()[-1])["images_per_s"], ""


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.child:
        return child(args.size, args.batch_size, args.steps)
    results = {}
    for backend in args.backends.split(","):
        results[backend] = measure(backend, args.size, args.batch_size, args.steps)
        print(f"{backend}: {results[backend][0] or results[backend][1]}", flush=True)
    base = results.get("tensorflow", (None, ""))[0]
    print(f"\ntiny preset, {args.size}x{args.size}, batch {args.batch_size}, {args.steps} steps, "
          f"{os.cpu_count()} CPU cores")
    print("| backend | train img/s | ratio to tensorflow |")
    print("|---|---|---|")
    for backend, (speed, why) in results.items():
        if speed is None:
            print(f"| {backend} | not run: {why} | |")
        else:
            print(f"| {backend} | {speed:.1f} | {speed / base:.2f} |" if base else
                  f"| {backend} | {speed:.1f} | |")
    # The claim: the model trains on every backend asked for (the speeds are figures).
    ran = check("the tiny preset trains on " + ", ".join(results),
                sum(speed is not None for speed, _ in results.values()), len(results), unit="")
    return 0 if ran else 1


if __name__ == "__main__":
    sys.exit(main())
