"""Cost of the paper's attention head: full network at 256x256, with and without it.

Measures training and inference images/s of `Deeplabv3pa(attention=True)` and of the
plain Deeplabv3+ fusion (`attention=False`) in the same run, and prints the ratios.

    python benchmarks/bench_model.py                 # short: 2 steps of batch 2
    python benchmarks/bench_model.py --steps 20 --batch-size 8
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import keras  # noqa: E402

from attention_deeplab.model import Deeplabv3pa  # noqa: E402


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256, help="input height and width")
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--steps", type=int, default=2, help="timed steps after warm-up")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps (tracing)")
    parser.add_argument("--preset", choices=("full", "tiny"), default="full")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    return parser


def _rate(step, batch_size, steps, warmup):
    for _ in range(warmup):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return batch_size * steps / (time.perf_counter() - start)


def measure(attention, size, batch_size, steps, warmup, preset):
    """Training and inference images/s of one variant.

    Args:
        attention: bool. Build the attention head or the plain fusion.
        size: int. Input height and width.
        batch_size: int. Images per step.
        steps: int. Timed steps.
        warmup: int. Untimed steps before timing (graph tracing).
        preset: str. `"full"` or `"tiny"`.

    Returns:
        A dict with `train_images_per_s`, `infer_images_per_s` and `params`.
    """
    model = Deeplabv3pa(weights=None, input_shape=(size, size, 3), attention=attention,
                        preset=preset)
    rng = np.random.default_rng(0)
    x = rng.random((batch_size, size, size, 3), dtype=np.float32)
    y = (rng.random((batch_size, size, size, 1)) > 0.5).astype("float32")
    train = _rate(lambda: model.train_on_batch(x, y), batch_size, steps, warmup)
    infer = _rate(lambda: model.predict_on_batch(x), batch_size, steps, warmup)
    return {"train_images_per_s": train, "infer_images_per_s": infer,
            "params": model.count_params()}


def main(argv=None):
    args = build_parser().parse_args(argv)
    results = {}
    for attention in (True, False):
        name = "attention" if attention else "no_attention"
        results[name] = measure(attention, args.size, args.batch_size, args.steps,
                                args.warmup, args.preset)
        keras.backend.clear_session()
        print(f"{name:>12}: train {results[name]['train_images_per_s']:.3f} img/s, "
              f"inference {results[name]['infer_images_per_s']:.3f} img/s, "
              f"{results[name]['params']:,} params", flush=True)
    for kind in ("train", "infer"):
        ratio = (results["no_attention"][f"{kind}_images_per_s"]
                 / results["attention"][f"{kind}_images_per_s"])
        results[f"{kind}_slowdown"] = ratio
        print(f"{kind}: attention head is {ratio:.2f}x slower than plain Deeplabv3+ "
              f"(images/s without / with)")
    results["settings"] = {**vars(args), "backend": keras.backend.backend(),
                           "keras": keras.__version__}
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
