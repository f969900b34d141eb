"""Data preparation: ours against an original-like baseline, same run, each in a child process.

The baseline works like the original Prepare scripts: one process, full JPEG
decode, Pillow bilinear resize, float64 arrays filled in memory, then np.save.
Ours: decoding threads on all cores, JPEG draft, uint8 rows written straight to
the files. Claims: at least 4x faster on ISIC-like JPEGs of mixed sizes (1022x767
up to 6000x4000) on 2 idle cores, and at least 4x lower peak memory at ISIC
2018's scale (2594 pairs). Peak memory is the largest summed resident set of the
child's process tree (sampled every 20 ms), and at least the child's own VmHWM.
CPU time is printed too: on a machine busy with other work, extra cores give
little, and the CPU-time ratio is what one core gains.

Fidelity (also alone with --fidelity): the fast path (JPEG draft, box-reduced
masks) against --exact-resize (full decode, plain bilinear, the original's
scipy.misc.imresize) on the same ISIC-sized JPEGs at --size: the mean and
maximum absolute pixel difference of the images, and the share of mask pixels
on the other side of 127.5. Claim: mean <= 1 grey level, share <= 0.5%, the
bound under which fast stays the default.

    python benchmarks/bench_prepare.py [--per-size 8] [--pairs 2594] [--size 256]
        [--mem-size 128] [--repeat 2] [--workdir /tmp/bench_prepare] [--fidelity]
"""
import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

from attention_deeplab.data.image_files import read_pair
from attention_deeplab.data.isic import ISIC2018
from attention_deeplab.data.lesion_render import render_case
from attention_deeplab.data.pairs import Pair
from attention_deeplab.data.synthetic import generate
from claims import check, start_python

# The sizes found in ISIC 2018's training images.
ISIC_SIZES = ((1022, 767), (1024, 768), (2048, 1536), (3008, 2000), (4288, 2848), (6000, 4000))


def make_large_set(folder, per_size, seed=0):
    """ISIC-like JPEGs of the mixed sizes: rendered at 1/4 scale, upscaled, with grain
    added so the files carry a camera's entropy (a 6000x4000 one is a few MB)."""
    image_dir, mask_dir = folder / ISIC2018.image_dir, folder / ISIC2018.mask_dir
    if (folder / "done").is_file():
        return folder
    image_dir.mkdir(parents=True, exist_ok=True)
    mask_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    grain = rng.normal(0, 6, (512, 512, 3)).astype(np.float32)
    index = 0
    for width, height in ISIC_SIZES:
        for _ in range(per_size):
            image, mask = render_case(rng, height // 4, width // 4)
            image = np.asarray(Image.fromarray(image).resize((width, height), Image.BICUBIC))
            tiled = np.tile(grain, (height // 512 + 1, width // 512 + 1, 1))[:height, :width]
            image = np.clip(image + tiled, 0, 255).astype(np.uint8)
            Image.fromarray(image).save(image_dir / f"ISIC_{index:07d}.jpg", quality=90)
            mask = Image.fromarray(mask).resize((width, height), Image.NEAREST)
            mask.save(mask_dir / f"ISIC_{index:07d}_segmentation.png")
            index += 1
    (folder / "done").write_text("")
    return folder


def make_small_set(folder, pairs):
    """ISIC 2018's count of pairs, small images: the arrays dominate memory."""
    if not (folder / "done").is_file():
        generate("isic2018", pairs, folder, seed=0, width_range=(64, 96))
        (folder / "done").write_text("")
    return folder


def baseline(data_dir, out_dir, size):
    """Like the original: one process, full decode, float64 arrays, np.save."""
    height, width = size
    images = sorted((data_dir / ISIC2018.image_dir).glob("ISIC_*.jpg"))
    data = np.zeros([len(images), height, width, 3])
    label = np.zeros([len(images), height, width])
    for i, path in enumerate(images):
        image = Image.open(path).convert("RGB").resize((width, height), Image.BILINEAR)
        data[i] = np.double(np.asarray(image))
        mask_path = data_dir / ISIC2018.mask_dir / f"{path.stem}_segmentation.png"
        mask = Image.open(mask_path).convert("L").resize((width, height), Image.BILINEAR)
        label[i] = np.double(np.asarray(mask))
    train, val = round(len(images) * 0.7), round(len(images) * 0.1)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, part in (("train", slice(0, train)), ("val", slice(train, train + val)),
                       ("test", slice(train + val, None))):
        np.save(out_dir / f"data_{name}.npy", data[part])
        np.save(out_dir / f"mask_{name}.npy", label[part])


def fidelity(data_dir, side):
    """Fast against exact resize of every pair: image differences, mask pixels changing side."""
    images = sorted((data_dir / ISIC2018.image_dir).glob("ISIC_*.jpg"))
    total, largest, pixels, flipped, mask_pixels, per_size = 0.0, 0, 0, 0, 0, {}
    for path in images:
        pair = Pair(path.stem, path, data_dir / ISIC2018.mask_dir / f"{path.stem}_segmentation.png")
        (_, fast_image, fast_mask), (_, exact_image, exact_mask) = (
            read_pair((0, pair, (side, side), mode)) for mode in ("fast", "exact"))
        difference = np.abs(np.frombuffer(fast_image, np.uint8).astype(np.int16)
                            - np.frombuffer(exact_image, np.uint8))
        changed = int(np.count_nonzero((np.frombuffer(fast_mask, np.uint8) > 127.5)
                                       != (np.frombuffer(exact_mask, np.uint8) > 127.5)))
        total, pixels = total + float(difference.sum()), pixels + difference.size
        largest = max(largest, int(difference.max()))
        flipped, mask_pixels = flipped + changed, mask_pixels + side * side
        with Image.open(path) as image:
            mean, share = per_size.get(image.size, (0.0, 0.0))
            per_size[image.size] = (mean + float(difference.mean()), share + changed / side ** 2)
    count = len(images) // max(len(per_size), 1)
    for (width, height), (mean, share) in sorted(per_size.items()):
        print(f"fidelity {width}x{height}: mean |fast - exact| {mean / count:.3f} grey levels, "
              f"mask pixels changing side {100 * share / count:.3f}%", flush=True)
    return {"mean_abs": total / pixels, "max_abs": largest,
            "mask_flipped_share": flipped / mask_pixels, "images": len(images)}


def child(kind, data_dir, out_dir, size):
    """Runs one implementation, then records this process's own peak RSS (VmHWM)."""
    if kind == "baseline":
        baseline(Path(data_dir), Path(out_dir), size)
    else:
        from attention_deeplab.data.prepare import prepare_dataset

        prepare_dataset("isic2018", data_dir, out_dir, image_size=size, progress=False,
                        say=lambda message: None)
    status = Path("/proc/self/status").read_text()
    peak_kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))
    (Path(out_dir) / "peak_kib.txt").write_text(peak_kib)


def tree_rss(root):
    """Summed resident memory (bytes) of ``root`` and all its descendants."""
    parents, rss = {}, {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
                parents[int(entry)], rss[int(entry)] = int(fields[1]), int(fields[21])
            except (OSError, IndexError):
                continue
    family, grew = {root}, True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in family and pid not in family:
                family.add(pid)
                grew = True
    return sum(rss.get(pid, 0) for pid in family) * os.sysconf("SC_PAGE_SIZE")


def measure(kind, data_dir, out_dir, side):
    """Runs one implementation in a child process: wall and CPU seconds, peak tree RSS."""
    start = time.perf_counter()
    process = start_python(__file__, "--child", kind, "--data", data_dir, "--out", out_dir,
                           "--size", side)
    peak, done = [0], threading.Event()

    def sample():
        while not done.wait(0.02):
            peak[0] = max(peak[0], tree_rss(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    if status != 0:
        raise SystemExit(f"{kind} failed with status {status}")
    # Not ru_maxrss: on Linux a child's counts the parent's memory at fork time.
    own_peak = int((Path(out_dir) / "peak_kib.txt").read_text()) / 1024
    return {"seconds": round(seconds, 2), "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
            "peak_mib": round(max(peak[0] / 2**20, own_peak), 1)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--per-size", type=int, default=8, help="JPEGs of each ISIC size")
    parser.add_argument("--pairs", type=int, default=2594, help="pairs for the memory part")
    parser.add_argument("--size", type=int, default=256, help="target side, speed part")
    parser.add_argument("--mem-size", type=int, default=128, help="target side, memory part")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each; the fastest counts")
    parser.add_argument("--workdir", default="/tmp/bench_prepare")
    parser.add_argument("--fidelity", action="store_true",
                        help="only the fast-vs-exact resize fidelity part")
    parser.add_argument("--child", choices=("ours", "baseline"), help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.data, args.out, (args.size, args.size))
        return 0
    work = Path(args.workdir)
    print(f"cores: {len(os.sched_getaffinity(0))}, load average {os.getloadavg()[0]:.1f}; "
          f"generating sets in {work} ...", flush=True)
    large = make_large_set(work / f"large-{args.per_size}", args.per_size)
    close = fidelity(large, args.size)
    print(f"fidelity (fast vs --exact-resize, {close['images']} JPEGs at {args.size} px): "
          f"mean |difference| {close['mean_abs']:.3f} grey levels (claim <= 1), max "
          f"{close['max_abs']}, mask pixels changing side at 127.5 "
          f"{100 * close['mask_flipped_share']:.3f}% (claim <= 0.5%)", flush=True)
    faithful = all((
        check("fast resize's mean |difference| from --exact-resize (grey levels)",
              close["mean_abs"], 1, at_most=True, unit=""),
        check("share of mask pixels that fast resize moves across 127.5",
              close["mask_flipped_share"], 0.005, at_most=True, unit="")))
    if args.fidelity:
        return 0 if faithful else 1
    small = make_small_set(work / f"small-{args.pairs}", args.pairs)
    results = {}
    for part, folder, side in (("speed", large, args.size), ("memory", small, args.mem_size)):
        for kind in ("baseline", "ours"):
            # The fastest of --repeat runs: other load on the machine only slows a run.
            runs = [measure(kind, folder, work / f"out-{part}-{kind}", side)
                    for _ in range(args.repeat)]
            result = min(runs, key=lambda run: run["seconds"])
            results[f"{part}_{kind}"] = result
            print(f"{part:6s} {kind:8s} {result['seconds']:7.2f} s wall "
                  f"{result['cpu_seconds']:7.2f} s CPU  peak {result['peak_mib']:8.1f} MiB",
                  flush=True)
    speed = results["speed_baseline"]["seconds"] / results["speed_ours"]["seconds"]
    cpu = results["speed_baseline"]["cpu_seconds"] / results["speed_ours"]["cpu_seconds"]
    memory = results["memory_baseline"]["peak_mib"] / results["memory_ours"]["peak_mib"]
    print(json.dumps({"load_average": os.getloadavg(), **results}))
    print(f"speed ratio (baseline / ours, {6 * args.per_size} JPEGs at {args.size} px): "
          f"{speed:.1f}x wall (claim >= 4 on 2 idle cores), {cpu:.1f}x CPU time")
    print(f"peak memory ratio (baseline / ours, {args.pairs} pairs at {args.mem_size} px): "
          f"{memory:.1f}x (claim >= 4)")
    fast = check(f"preparing {6 * args.per_size} ISIC-sized JPEGs faster than an original-like "
                 "pipeline (wall time, 2 idle cores)", speed, 4)
    lean = check(f"peak memory of preparing {args.pairs} pairs below an original-like "
                 "pipeline's", memory, 4)
    return 0 if fast and lean and faithful else 1


if __name__ == "__main__":
    sys.exit(main())
