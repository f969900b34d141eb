"""Synthetic dermoscopy datasets written in the published layouts of ISIC 2017/2018 and PH2.

    python -m attention_deeplab.data.synthetic --layout isic2018 --count 40 --out demo_data

Every Prepare script runs unchanged on the folder written. Deterministic for a
seed: case ``i`` is drawn from ``numpy.random.default_rng([seed, i])``.
"""
import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from attention_deeplab.data import isic, official
from attention_deeplab.data.lesion_render import render_case
from attention_deeplab.datasets import DATASETS

# Each dataset's published layout, and PH2 in the flat layout the original script read.
# The paper's datasets' layouts (a folder of your own has none to imitate).
LAYOUTS = (*(name for name, facts in DATASETS.items() if facts.paper_split),
           "ph2-flat", "isic2018-official")
# The folders the Prepare scripts read (attention_deeplab.data.isic), so the two cannot drift.
ISIC_FOLDERS = {name: (layout.image_dir, layout.mask_dir)
                for name, layout in isic.LAYOUTS.items()}
PH2_FOLDERS = {"ph2": ("PH2 Dataset images",), "ph2-flat": ("lesions", "masks")}
# The challenge's own training/validation/test folders (Prepare_ISIC2018.py --official).
OFFICIAL_SPLITS = {"isic2018-official": official.FOLDERS["isic2018"]}
# PH2's masks come as 1-, 8- or 24-bit BMPs depending on the copy: cycle through all three.
PH2_MASK_MODES = ("1", "L", "RGB")
# Written beside the synthetic files; only a folder holding it is ever cleared.
MARKER = "SYNTHETIC.json"


def case_size(rng, width_range):
    """A random (height, width) with the 4:3-ish aspect of dermoscopy images."""
    width = int(rng.integers(width_range[0], width_range[1] + 1))
    return max(8, round(width * rng.uniform(0.68, 0.8))), width


def case_id(layout, index):
    return f"ISIC_{index:07d}" if layout.startswith("isic") else f"IMD{index:03d}"


def _superpixels(rng, height, width):
    """A decoy like ISIC 2017's ``*_superpixels.png``: labels packed into RGB."""
    grid = rng.integers(0, 4096, (max(2, height // 24), max(2, width // 24)))
    labels = np.asarray(Image.fromarray(grid.astype(np.int32)).resize((width, height),
                                                                      Image.NEAREST))
    rgb = np.stack([labels & 255, labels >> 8, np.zeros_like(labels)], -1)
    return Image.fromarray(rgb.astype(np.uint8))


def official_split(index, count):
    """The split of case ``index`` in an official layout: a fifth val, a quarter test."""
    n_val, n_test = max(1, count // 5), max(1, count // 4)
    return "val" if index < n_val else "test" if index < n_val + n_test else "train"


def _write_isic(layout, root, index, rng, image, mask, folders=None):
    image_dir, mask_dir = (root / name for name in folders or ISIC_FOLDERS[layout])
    key = case_id(layout, index)
    Image.fromarray(image).save(image_dir / f"{key}.jpg", quality=92)
    Image.fromarray(mask).save(mask_dir / f"{key}_segmentation.png")
    if layout == "isic2017":
        _superpixels(rng, *mask.shape).save(image_dir / f"{key}_superpixels.png")


def _write_ph2(layout, root, index, image, mask):
    key = case_id(layout, index)
    if layout == "ph2":
        case = root / "PH2 Dataset images" / key
        image_path = case / f"{key}_Dermoscopic_Image" / f"{key}.bmp"
        mask_path = case / f"{key}_lesion" / f"{key}_lesion.bmp"
    else:
        image_path = root / "lesions" / f"{key}.bmp"
        mask_path = root / "masks" / f"{key}_lesion.bmp"
    for path in (image_path, mask_path):
        path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(image_path)
    Image.fromarray(mask).convert(PH2_MASK_MODES[index % 3]).save(mask_path)


def _clear_previous(root, layout):
    """Removes an earlier synthetic set, refusing to touch a folder of real data."""
    names = {**ISIC_FOLDERS, **PH2_FOLDERS, **{key: sum(value.values(), ()) for key, value
                                                in OFFICIAL_SPLITS.items()}}[layout]
    folders = [root / name for name in names]
    if not any(folder.exists() for folder in folders):
        return
    if not (root / MARKER).is_file():
        raise FileExistsError(
            f"{root} already holds {', '.join(f.name for f in folders if f.exists())} "
            f"without a {MARKER}: not a synthetic set, so it is left alone. "
            "Choose another --out."
        )
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


def generate(layout, count, out_dir, seed=0, width_range=(300, 700)):
    """Writes ``count`` synthetic image/mask pairs in a dataset's published layout.

    Args:
        layout: str. ``"isic2018"``, ``"isic2017"`` (with superpixel decoys),
            ``"ph2"`` (the database's folders), ``"ph2-flat"`` (lesions/, masks/) or
            ``"isic2018-official"`` (the challenge's training, validation and test
            folders: a fifth of the cases val, a quarter test).
        count: int. Number of pairs.
        out_dir: str or Path. Folder to write into (created if missing). An
            earlier synthetic set there is replaced; real data makes it fail.
        seed: int. Seed; the same seed writes the same files. Defaults to 0.
        width_range: tuple of int. Smallest and largest image width. Defaults
            to (300, 700).

    Returns:
        list of str: the ids written, sorted.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    root = Path(out_dir)
    _clear_previous(root, layout)
    root.mkdir(parents=True, exist_ok=True)
    (root / MARKER).write_text(json.dumps(
        {"layout": layout, "count": count, "seed": seed, "width_range": list(width_range)}))
    for name in ISIC_FOLDERS.get(layout, ()) + sum(OFFICIAL_SPLITS.get(layout, {}).values(), ()):
        (root / name).mkdir(parents=True, exist_ok=True)
    first = 1 if layout.startswith("ph2") else 0  # PH2 numbers from IMD001
    for index in range(first, first + count):
        rng = np.random.default_rng([seed, index])
        image, mask = render_case(rng, *case_size(rng, width_range))
        if layout in OFFICIAL_SPLITS:
            folders = OFFICIAL_SPLITS[layout][official_split(index, count)]
            _write_isic(layout, root, index, rng, image, mask, folders)
        elif layout in ISIC_FOLDERS:
            _write_isic(layout, root, index, rng, image, mask)
        else:
            _write_ph2(layout, root, index, image, mask)
    return [case_id(layout, i) for i in range(first, first + count)]


def build_parser():
    parser = argparse.ArgumentParser(description="Write a synthetic dermoscopy dataset.")
    parser.add_argument("--layout", choices=LAYOUTS, default="isic2018")
    parser.add_argument("--count", type=int, default=40, help="Pairs to write. Default: 40")
    parser.add_argument("--out", required=True, help="Folder to write into.")
    parser.add_argument("--seed", type=int, default=0, help="Default: 0")
    parser.add_argument("--width", type=int, nargs=2, default=(300, 700), metavar=("MIN", "MAX"),
                        help="Range of image widths in pixels. Default: 300 700")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.width[0] < 8 or args.width[1] < args.width[0]:
        build_parser().error(f"--width needs 8 <= MIN <= MAX, got {args.width}")
    try:
        ids = generate(args.layout, args.count, args.out, seed=args.seed,
                       width_range=args.width)
    except FileExistsError as error:
        print(f"{build_parser().prog}: error: {error}", file=sys.stderr)
        return 2
    print(f"Wrote {len(ids)} synthetic {args.layout} pairs to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
