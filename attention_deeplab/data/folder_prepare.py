"""Preparing a folder of images and masks (``Prepare_Folder.py``) into the arrays and
``split.json`` that training, evaluation, prediction and comparison read.

Besides the arrays, ``split.json`` records each image's original size and mask
file (as ``Prepare_ISIC2018.py --official`` does) and the mask rule, so that
``Evaluate_Skin.py --native-resolution`` scores against the original masks.
"""
import functools
import os
from pathlib import Path

from attention_deeplab.data.binary_masks import read_folder_pair
from attention_deeplab.data.folder import find_folder_pairs
from attention_deeplab.data.folds import check_folds, fold_split
from attention_deeplab.data.image_files import RESIZE_MODES, parse_size
from attention_deeplab.data.prepare import _decoded, _plan, default_workers
from attention_deeplab.data.splits import SPLITS, assign, proportional_sizes, read_split_file
from attention_deeplab.data.writer import AtomicSet, build_manifest
from attention_deeplab.errors import PrepareError

DATASET = "folder"
DEFAULT_SPLIT = "0.7,0.1,0.2"
# --folds draws validation cases from the other folds in this ratio to training (1:7).
FOLD_PROPORTIONS = (70, 10, 20)


def choose_ids(ids, split=None, split_file=None, seed=0, folds=None, fold=None, say=print):
    """split -> ids: from ``split_file``, fold ``fold`` of ``folds``, or ``split`` (proportions
    or counts, default 0.7,0.1,0.2) applied after a permutation seeded with ``seed``."""
    if sum(option is not None for option in (split, split_file, folds)) > 1:
        raise PrepareError("--split, --split-file and --folds exclude each other: "
                           "each one decides the split")
    if split_file is not None:
        chosen = read_split_file(split_file, ids)
        left = len(ids) - sum(len(chosen[name]) for name in SPLITS)
        if left:
            say(f"--split-file lists {len(ids) - left} of {len(ids)} pairs; the rest are left out.")
        return chosen
    if folds is not None:
        return fold_split(ids, FOLD_PROPORTIONS, folds, fold, seed)
    return assign(ids, proportional_sizes(len(ids), split or DEFAULT_SPLIT, say), seed)


def _records(pairs, ids, source, mask_threshold):
    """What native-resolution scoring needs: original sizes, mask files, the mask rule."""
    kept = {image_id for name in SPLITS for image_id in ids[name]}
    return {"mask_threshold": mask_threshold,
            "original_sizes": {p.id: list(p.size) for p in pairs if p.id in kept},
            "mask_files": {p.id: p.mask.resolve().relative_to(source).as_posix()
                           for p in pairs if p.id in kept}}


def prepare_folder(images, masks, out_dir, image_size=256, split=None, split_file=None, seed=0,
                   folds=None, fold=None, mask_suffix=None, mask_threshold=None, workers=None,
                   skip_unpaired=False, resize="fast", progress=True, say=print):
    """A folder of images and one of masks -> ``data_*.npy``, ``mask_*.npy``, ``split.json``.

    Args:
        images, masks: str or Path. The two flat folders (see ``data/folder.py``).
        out_dir: str or Path. Where to write.
        image_size, workers, skip_unpaired, resize, progress, say: as ``prepare_dataset``.
        split, split_file, seed, folds, fold: see ``choose_ids``.
        mask_suffix: str or None. What mask stems add to image stems; None detects it.
        mask_threshold: float or None. Lesion above it; None: the rule of
            ``data/binary_masks.py`` (0/1 and 0/255 masks alike).

    Returns:
        dict: the manifest written to ``split.json`` (``"dataset": "folder"``).
    """
    size = parse_size(image_size)
    if resize not in RESIZE_MODES:
        raise PrepareError(f"resize must be one of {', '.join(RESIZE_MODES)}, got {resize!r}")
    check_folds(folds, fold)
    workers = default_workers() if workers is None else int(workers)
    if workers < 1:
        raise PrepareError(f"--workers must be at least 1, got {workers}")
    pairs = find_folder_pairs(images, masks, mask_suffix, skip_unpaired, say)
    ids = choose_ids([p.id for p in pairs], split, split_file, seed, folds, fold, say)
    source = Path(os.path.commonpath([Path(images).resolve(), Path(masks).resolve()]))
    extra = _records(pairs, ids, source, mask_threshold)
    if folds is not None:
        extra.update(fold=fold, folds=folds)
    rows, tasks = _plan(pairs, ids, size, resize)
    counts = {name: len(ids[name]) for name in SPLITS}
    read = functools.partial(read_folder_pair, threshold=mask_threshold)
    with AtomicSet(out_dir, counts, size) as arrays:
        for index, image, mask in _decoded(tasks, workers, progress, read):
            arrays.write(*rows[index], image, mask)
        manifest = build_manifest(DATASET, source, seed, size, ids, resize, extra)
        arrays.commit(manifest)
    say(f"Wrote {'/'.join(str(counts[name]) for name in SPLITS)} (train/val/test) pairs of "
        f"{size[0]}x{size[1]} to {out_dir}")
    return manifest
