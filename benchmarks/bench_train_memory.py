"""Peak memory of one training epoch: our memory-mapped uint8 pipeline against
loading like the original (float64 arrays, `dataset_normalized`, `fit` on arrays).

Writes arrays of ISIC 2018's size (1815 training + 259 validation images at
256x256; `--scale` takes a fraction of that), then trains the reduced network
for one epoch in a child process for each, and reports each child's maximum
resident set. Claim: ours at least 4 times lower and under 2.5 GB at scale 1.

    python benchmarks/bench_train_memory.py              # scale 0.1, a few minutes
    python benchmarks/bench_train_memory.py --scale 1    # ISIC 2018's size, ~25 min on 2 cores
"""
import argparse
import json
import resource
import sys
import tempfile
from pathlib import Path

import numpy as np

from attention_deeplab.data.disc_arrays import write_disc_arrays
from claims import check, run_python

SIZES = {"train": 1815, "val": 259}  # ISIC 2018, the original split


def child_ours(data, run):
    from attention_deeplab.training import train

    train(data, run, epochs=1, batch_size=7, preset="tiny", backbone_weights="none", verbose=0)


def dataset_normalized(imgs):
    """The original's normalisation, as it ran (float64)."""
    imgs_normalized = np.empty(imgs.shape)
    imgs_std, imgs_mean = np.std(imgs), np.mean(imgs)
    imgs_normalized = (imgs - imgs_mean) / imgs_std
    for i in range(imgs.shape[0]):
        imgs_normalized[i] = ((imgs_normalized[i] - np.min(imgs_normalized[i]))
                              / (np.max(imgs_normalized[i]) - np.min(imgs_normalized[i]))) * 255
    return imgs_normalized


def child_baseline(data, run):
    from attention_deeplab.training.model_setup import build_model

    tr_data, val_data = np.load(data / "data_train.npy"), np.load(data / "data_val.npy")
    tr_mask = np.expand_dims(np.load(data / "mask_train.npy"), axis=3)
    val_mask = np.expand_dims(np.load(data / "mask_val.npy"), axis=3)
    tr_data, val_data = dataset_normalized(tr_data), dataset_normalized(val_data)
    tr_mask, val_mask = tr_mask / 255.0, val_mask / 255.0
    model = build_model({"input_shape": list(tr_data.shape[1:]), "preset": "tiny"}, None, None, 1e-4)
    model.fit(tr_data, tr_mask, batch_size=7, epochs=1, shuffle=True, verbose=0,
              validation_data=(val_data, val_mask))


def peak_rss_gib():
    """This process image's peak resident set (VmHWM). Not ru_maxrss: Linux
    carries that across exec from the parent, which wrote the arrays."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024 ** 2  # KiB -> GiB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2


def run_child(kind, data, run):
    status, out, err = run_python(__file__, "--child", kind, "--data", data, "--run", run)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if status or not lines:
        raise SystemExit(f"{kind} child failed:\n{err[-3000:]}")
    return json.loads(lines[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1, help="fraction of ISIC 2018's size")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--child", choices=("ours", "baseline"), help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--run", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        {"ours": child_ours, "baseline": child_baseline}[args.child](args.data, args.run)
        print(json.dumps({"peak_gib": peak_rss_gib()}))
        return 0
    with tempfile.TemporaryDirectory(prefix="bench_train_memory_") as tmp:
        tmp = Path(tmp)
        counts = {split: max(8, round(full * args.scale)) for split, full in SIZES.items()}
        for name, dtype in (("uint8", np.uint8), ("float64", np.float64)):
            write_disc_arrays(tmp / name, counts, args.size, dtype=dtype, fingerprint="benchmark")
        ours = run_child("ours", tmp / "uint8", tmp / "run_ours")["peak_gib"]
        base = run_child("baseline", tmp / "float64", tmp / "run_base")["peak_gib"]
    count = {k: max(8, round(v * args.scale)) for k, v in SIZES.items()}
    print(f"one epoch, reduced network, {count['train']}+{count['val']} images at "
          f"{args.size}x{args.size} (scale {args.scale})")
    gb = 1024 ** 3 / 1e9  # the claim is in GB
    print(f"peak RSS ours (uint8, memory-mapped, per-batch normalisation): {ours:.2f} GiB "
          f"({ours * gb:.2f} GB)")
    print(f"peak RSS original-like (float64 np.load, dataset_normalized, fit): {base:.2f} GiB "
          f"({base * gb:.2f} GB)")
    print(f"ratio original-like / ours: {base / ours:.2f}x (claim at scale 1: >= 4x, ours < 2.5 GB)")
    if args.scale != 1:
        print("(the claims are made at ISIC 2018's size: --scale 1)")
        return 0
    lower = check("peak memory of an ISIC 2018-sized training epoch below original-like "
                  "loading's", base / ours, 4)
    small = check("peak memory of an ISIC 2018-sized training epoch", ours * gb, 2.5,
                  at_most=True, unit=" GB")
    return 0 if lower and small else 1


if __name__ == "__main__":
    sys.exit(main())
