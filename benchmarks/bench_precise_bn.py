"""Precise batch-norm statistics on JAX CPU: the pass over N images against an
inference-mode forward pass over the same images, same run.

The statistics are a training-mode forward whose batch norms' sums stay on the
device (`recompute_bn_statistics` with a compiled `BatchStatistics`), one
transfer per pass. The baseline is what a competent user would time as "one
forward pass": a jit-compiled inference-mode forward (`stateless_call`,
training=False) over the same batches, each batch's output brought to the host.
Both warm (each compiled beforehand), best of --repeats. Claim: the statistics
pass at most 1.3 times the forward pass.

    python benchmarks/bench_precise_bn.py [--images 32] [--batch 8] [--size 96]
        [--preset full] [--repeats 5]
"""
import argparse
import os
import sys
import time

os.environ["KERAS_BACKEND"] = "jax"  # the claim is JAX CPU's
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

from attention_deeplab.model import build_from_options  # noqa: E402
from attention_deeplab.model.options import model_options  # noqa: E402
from attention_deeplab.training.precise_bn import BatchStatistics, recompute_bn_statistics  # noqa: E402
from claims import check  # noqa: E402


def inference_pass(model):
    """A jit-compiled inference forward over batches, each output fetched to the host."""
    forward = jax.jit(lambda t, n, x: model.stateless_call(t, n, x, training=False)[0])

    def run(batches):
        trainable = [v.value for v in model.trainable_variables]
        states = [v.value for v in model.non_trainable_variables]
        return [np.asarray(forward(trainable, states, x)) for x in batches]

    return run


def best_of(functions, batches, repeats):
    """Each function's best time over `batches`, the repeats alternated so that a
    busy machine slows both alike."""
    for function in functions:
        function(batches)  # compiles every batch shape
    seconds = [[] for _ in functions]
    for _ in range(repeats):
        for function, times in zip(functions, seconds):
            start = time.perf_counter()
            function(batches)
            times.append(time.perf_counter() - start)
    return [min(times) for times in seconds]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=32)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--preset", default="full", choices=("full", "tiny"))
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    model = build_from_options(model_options((args.size, args.size, 3), preset=args.preset),
                               weights=None, compile=False)
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (args.images, args.size, args.size, 3)).astype(np.float32)
    batches = [images[i:i + args.batch] for i in range(0, args.images, args.batch)]
    compiled = BatchStatistics(model)
    ours, base = best_of([lambda b: recompute_bn_statistics(model, b, compiled),
                          inference_pass(model)], batches, args.repeats)
    print(f"jax {jax.devices()[0].platform}, {args.preset} at {args.size}x{args.size}, "
          f"{args.images} images at batch {args.batch}: statistics pass {ours:.3f} s, "
          f"inference forward {base:.3f} s", flush=True)
    holds = check("precise statistics pass vs an inference forward over the same images (JAX CPU)",
                  ours / base, 1.3, at_most=True)
    return 0 if holds else 1


if __name__ == "__main__":
    sys.exit(main())
