"""Cost of the paper's attention head: full network at 256x256, with and without it.

Measures training and inference images/s of `Deeplabv3pa(attention=True)` and of the
plain Deeplabv3+ fusion (`attention=False`) in the same run, and prints the ratios.

    python benchmarks/bench_model.py                 # short: 2 steps of batch 2
    python benchmarks/bench_model.py --steps 20 --batch-size 8 --repeats 3
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

import keras

from attention_deeplab.model import Deeplabv3pa
from claims import check


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256, help="input height and width")
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--steps", type=int, default=2, help="timed steps after warm-up")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps (tracing)")
    parser.add_argument("--repeats", type=int, default=1,
                        help="alternating timed rounds per model; the best counts")
    parser.add_argument("--preset", choices=("full", "tiny"), default="full")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    return parser


def _images_per_s(step, batch_size, steps):
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return batch_size * steps / (time.perf_counter() - start)


def measure(variants, batch_size, steps, warmup, repeats):
    """Best-of-`repeats` training and inference images/s of each model.

    The variants are timed in alternation, so a slow spell of a shared machine
    hits both rather than one.

    Args:
        variants: dict of name -> compiled keras.Model, all of the same input size.
        batch_size: int. Images per step.
        steps: int. Timed steps per round.
        warmup: int. Untimed steps per model first (graph tracing, compilation).
        repeats: int. Timed rounds; the best round counts.

    Returns:
        A dict name -> `{"train_images_per_s", "infer_images_per_s", "params"}`.
    """
    size = next(iter(variants.values())).input_shape[1:]
    rng = np.random.default_rng(0)
    x = rng.random((batch_size, *size), dtype=np.float32)
    y = (rng.random((batch_size, *size[:2], 1)) > 0.5).astype("float32")
    steps_of = {name: {"train": lambda m=model: m.train_on_batch(x, y),
                       "infer": lambda m=model: m.predict_on_batch(x)}
                for name, model in variants.items()}
    for calls in steps_of.values():
        for call in calls.values():
            for _ in range(warmup):
                call()
    best = {name: {"train_images_per_s": 0.0, "infer_images_per_s": 0.0,
                   "params": variants[name].count_params()} for name in variants}
    for _ in range(repeats):
        for name, calls in steps_of.items():
            for kind, call in calls.items():
                rate = _images_per_s(call, batch_size, steps)
                key = f"{kind}_images_per_s"
                best[name][key] = max(best[name][key], rate)
    return best


def main(argv=None):
    args = build_parser().parse_args(argv)
    shape = (args.size, args.size, 3)
    variants = {"attention": Deeplabv3pa(weights=None, input_shape=shape, preset=args.preset),
                "no_attention": Deeplabv3pa(weights=None, input_shape=shape, preset=args.preset,
                                            attention=False)}
    results = measure(variants, args.batch_size, args.steps, args.warmup, args.repeats)
    for name in variants:
        print(f"{name:>12}: train {results[name]['train_images_per_s']:.3f} img/s, "
              f"inference {results[name]['infer_images_per_s']:.3f} img/s, "
              f"{results[name]['params']:,} params", flush=True)
    holds = []
    for kind in ("train", "infer"):
        ratio = (results["no_attention"][f"{kind}_images_per_s"]
                 / results["attention"][f"{kind}_images_per_s"])
        results[f"{kind}_slowdown"] = ratio
        print(f"{kind}: attention head is {ratio:.2f}x slower than plain Deeplabv3+ "
              f"(images/s without / with)")
        # README: 1.66x (training) and 1.54x (inference) on 2 CPU cores, none on a GPU.
        holds.append(check(f"the attention head's {kind} cost (images/s without / with)",
                           ratio, 2.0, at_most=True))
    results["settings"] = {**vars(args), "backend": keras.backend.backend(),
                           "keras": keras.__version__}
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0 if all(holds) else 1


if __name__ == "__main__":
    sys.exit(main())
