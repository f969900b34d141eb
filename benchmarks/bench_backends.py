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
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CHILD = """
import json, sys, time
import numpy as np
import keras
from attention_deeplab.model import build_from_options
size, batch, steps = (int(a) for a in sys.argv[1:4])
options = {"input_shape": [size, size, 3], "preset": "tiny", "attention": True, "output_stride": 16}
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
"""


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="tensorflow,jax,torch")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--steps", type=int, default=10, help="timed training steps")
    return parser


def measure(backend, size, batch_size, steps):
    """Training images/s on `backend`, or None with the reason when it cannot run."""
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-c", CHILD, str(size), str(batch_size), str(steps)],
                          env=env, capture_output=True, text=True)
    if done.returncode != 0:
        return None, done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"
    return json.loads(done.stdout.strip().splitlines()[-1])["images_per_s"], ""


def main(argv=None):
    args = build_parser().parse_args(argv)
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
    return 0 if all(speed for speed, _ in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
