"""GPU throughput check of the full network on a machine without TensorFlow.

Run on the GPU machine with `bash benchmarks/gpu_check.sh` (which installs the
carried keras wheels and sets KERAS_BACKEND=jax), or here on the CPU with tiny
settings to prove the script works:

    KERAS_BACKEND=jax python benchmarks/gpu_check.py --preset tiny --size 64 \
        --batches 2,4 --steps 2

Prints one table: training images/s at batch 7 (the paper's, float32) and at
larger batches with mixed_bfloat16, inference images/s, and one epoch of
ISIC 2018's training split (1815 images) extrapolated from each.
"""
import argparse
import os
import time


ISIC2018_TRAIN = 1815  # images in the ISIC 2018 training split


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="full", choices=["full", "tiny"])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batches", default="7,32,64",
                        help="training batch sizes; the first runs in float32, the others in mixed_bfloat16")
    parser.add_argument("--steps", type=int, default=8, help="timed steps per setting")
    parser.add_argument("--budget-s", type=float, default=420.0,
                        help="stop starting new settings after this many seconds")
    return parser


def synthetic_batch(batch, size, seed=0):
    """Prepared-array-like uint8 images with a dark disc, normalised as in training."""
    import numpy as np

    from attention_deeplab.data.loader import normalize_images, normalize_masks

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    images = rng.integers(150, 220, (batch, size, size, 3), dtype=np.uint8)
    masks = np.zeros((batch, size, size), np.uint8)
    for i in range(batch):
        cy, cx, r = rng.integers(size // 4, 3 * size // 4, 2).tolist() + [size // 6]
        inside = (yy - cy) ** 2 + (xx - cx) ** 2 < r * r
        images[i][inside] //= 3
        masks[i][inside] = 255
    return normalize_images(images), normalize_masks(masks)


def measure(preset, size, batch, policy, steps):
    """Returns (train images/s, inference images/s, compile seconds) for one setting."""
    import keras

    from attention_deeplab.model import build_from_options

    keras.mixed_precision.set_global_policy(policy)
    keras.utils.clear_session()
    options = {"input_shape": [size, size, 3], "preset": preset, "attention": True, "output_stride": 16}
    model = build_from_options(options, weights=None)
    x, y = synthetic_batch(batch, size)
    start = time.perf_counter()
    model.train_on_batch(x, y)
    model.predict_on_batch(x)
    compile_s = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    train_ips = steps * batch / (time.perf_counter() - start)
    start = time.perf_counter()
    for _ in range(steps):
        keras.ops.convert_to_numpy(model.predict_on_batch(x))
    infer_ips = steps * batch / (time.perf_counter() - start)
    return train_ips, infer_ips, compile_s


def main(argv=None):
    args = build_parser().parse_args(argv)
    import keras

    print(f"backend={keras.backend.backend()} keras={keras.__version__} devices={_devices()}", flush=True)
    batches = [int(b) for b in args.batches.split(",")]
    rows, start = [], time.perf_counter()
    for i, batch in enumerate(batches):
        if time.perf_counter() - start > args.budget_s:
            print(f"skipped batch {batch}: time budget spent", flush=True)
            continue
        policy = "float32" if i == 0 else "mixed_bfloat16"
        train_ips, infer_ips, compile_s = measure(args.preset, args.size, batch, policy, args.steps)
        rows.append((batch, policy, train_ips, infer_ips, ISIC2018_TRAIN / train_ips, compile_s))
        print(f"batch {batch} {policy}: train {train_ips:.1f} img/s, infer {infer_ips:.1f} img/s", flush=True)
    print(f"\n{args.preset} network, {args.size}x{args.size}, {keras.backend.backend()} on {_devices()}")
    print("| batch | precision | train img/s | inference img/s | ISIC 2018 epoch (s) | first-step compile (s) |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print("| {} | {} | {:.1f} | {:.1f} | {:.0f} | {:.0f} |".format(*row))


def _devices():
    import keras

    if keras.backend.backend() == "jax":
        import jax

        return ", ".join(sorted({d.device_kind for d in jax.devices()}))
    return os.environ.get("KERAS_BACKEND", "tensorflow")


if __name__ == "__main__":
    main()
