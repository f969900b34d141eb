"""The ISIC challenges' own splits: their training, validation and test folders, each with
its published ground truth (``Prepare_ISIC2018.py --official``, ``Prepare_ISIC2017.py --official``).

Besides the arrays at the model's size, ``split.json`` records each image's
original size and mask file, so that ``Evaluate_Skin.py --native-resolution``
scores at the resolution the challenges scored at.
"""
import sys
from pathlib import Path

from PIL import Image

from attention_deeplab.data import isic
from attention_deeplab.data.image_files import READ_ERRORS, RESIZE_MODES, parse_size
from attention_deeplab.data.prepare import _decoded, _plan, default_workers
from attention_deeplab.data.splits import SPLITS
from attention_deeplab.data.writer import AtomicSet, build_manifest
from attention_deeplab.datasets import DATASETS
from attention_deeplab.errors import PrepareError

# split -> (image folder, ground-truth folder), as the ISIC archive publishes them.
FOLDERS = {
    "isic2018": {"train": ("ISIC2018_Task1-2_Training_Input",
                           "ISIC2018_Task1_Training_GroundTruth"),
                 "val": ("ISIC2018_Task1-2_Validation_Input",
                         "ISIC2018_Task1_Validation_GroundTruth"),
                 "test": ("ISIC2018_Task1-2_Test_Input", "ISIC2018_Task1_Test_GroundTruth")},
    "isic2017": {"train": ("ISIC-2017_Training_Data", "ISIC-2017_Training_Part1_GroundTruth"),
                 "val": ("ISIC-2017_Validation_Data", "ISIC-2017_Validation_Part1_GroundTruth"),
                 "test": ("ISIC-2017_Test_v2_Data", "ISIC-2017_Test_v2_Part1_GroundTruth")},
}
PUBLISHED_SIZES = {"isic2018": (2594, 100, 1000), "isic2017": (2000, 150, 600)}
OUT_FOLDER = "official"  # inside the dataset folder: the paper-split arrays stay as they are


def original_size(path):
    """(height, width) of an image file, from its header."""
    try:
        with Image.open(path) as image:
            return [image.height, image.width]
    except READ_ERRORS as error:
        raise PrepareError(f"Cannot read image {path}: {error}") from error


def find_official_pairs(dataset, data_dir, skip_unpaired=False, warn=print):
    """split -> the sorted pairs of the challenge's folder for that split."""
    found = {}
    for split, (image_dir, mask_dir) in FOLDERS[dataset].items():
        layout = isic.IsicLayout(dataset, image_dir, mask_dir)
        found[split] = isic.find_pairs(data_dir, layout, skip_unpaired=skip_unpaired, warn=warn)
    return found


def prepare_official(dataset, data_dir, out_dir=None, image_size=256, workers=None,
                     skip_unpaired=False, resize="fast", progress=True, say=print):
    """The challenge's train/val/test folders -> arrays and a ``split.json`` with original sizes.

    Args:
        dataset: str. "isic2018" (2594/100/1000) or "isic2017" (2000/150/600).
        data_dir: str or Path. The unpacked challenge folders.
        out_dir: str, Path or None. Defaults to ``<data_dir>/official``.
        image_size, workers, skip_unpaired, resize, progress, say: as ``prepare_dataset``.

    Returns:
        dict: the manifest, with ``official``, ``original_sizes`` (id -> [H, W]) and
        ``mask_files`` (id -> path relative to ``source``).
    """
    size = parse_size(image_size)
    if resize not in RESIZE_MODES:
        raise PrepareError(f"resize must be one of {', '.join(RESIZE_MODES)}, got {resize!r}")
    data_dir = Path(data_dir)
    out_dir = Path(out_dir) if out_dir is not None else data_dir / OUT_FOLDER
    workers = default_workers() if workers is None else int(workers)
    by_split = find_official_pairs(dataset, data_dir, skip_unpaired, say)
    ids = {split: [pair.id for pair in by_split[split]] for split in SPLITS}
    counts = tuple(len(ids[split]) for split in SPLITS)
    if counts != PUBLISHED_SIZES[dataset]:
        say(f"Found {'/'.join(map(str, counts))} (train/val/test) pairs; the challenge "
            f"published {'/'.join(map(str, PUBLISHED_SIZES[dataset]))}.")
    pairs = [pair for split in SPLITS for pair in by_split[split]]
    if len({pair.id for pair in pairs}) != len(pairs):
        raise PrepareError(f"An id appears in two of the challenge's folders under {data_dir}")
    extra = {"official": True,
             "original_sizes": {pair.id: original_size(pair.image) for pair in pairs},
             "mask_files": {pair.id: pair.mask.relative_to(data_dir).as_posix()
                            for pair in pairs}}
    rows, tasks = _plan(pairs, ids, size, resize)
    with AtomicSet(out_dir, dict(zip(SPLITS, counts)), size) as arrays:
        for index, image, mask in _decoded(tasks, workers, progress):
            arrays.write(*rows[index], image, mask)
        manifest = build_manifest(dataset, data_dir, None, size, ids, resize, extra)
        arrays.commit(manifest)
    say(f"Wrote the official {'/'.join(map(str, counts))} (train/val/test) pairs of "
        f"{size[0]}x{size[1]} to {out_dir}")
    return manifest


def add_official_argument(parser):
    parser.add_argument("--official", action="store_true",
                        help="The challenge's own training/validation/test folders and ground "
                        "truth; writes to <data-dir>/official/ unless --out is given.")
    return parser


def run_official(dataset, args):
    """``prepare_official`` from parsed Prepare arguments; returns the exit status."""
    script = DATASETS[dataset].prepare_script
    try:
        if args.split is not None or args.folds is not None:
            raise PrepareError("--official takes the challenge's own split: drop --split/--folds")
        prepare_official(dataset, args.data_dir, args.out, args.size, args.workers,
                         args.skip_unpaired, progress=not args.no_progress,
                         resize="exact" if args.exact_resize else "fast")
    except PrepareError as error:
        print(f"{script}: error: {error}", file=sys.stderr)
        return 2
    return 0
