"""Preparing a dataset folder into the arrays and ``split.json`` that training reads."""
import os
import sys
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tqdm import tqdm

from attention_deeplab.data import isic, ph2
from attention_deeplab.data.folds import check_folds, fold_split
from attention_deeplab.data.image_files import RESIZE_MODES, parse_size, read_pair
from attention_deeplab.data.splits import SPLITS, assign, parse_split, split_sizes
from attention_deeplab.data.writer import AtomicSet, build_manifest
from attention_deeplab.datasets import DATASETS, get_dataset
from attention_deeplab.errors import PrepareError


def default_workers():
    """All the cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def find_pairs(dataset, data_dir, skip_unpaired=False, warn=print):
    """The sorted image/mask pairs of ``dataset`` in ``data_dir``."""
    if dataset in isic.LAYOUTS:
        return isic.find_pairs(data_dir, dataset, skip_unpaired=skip_unpaired, warn=warn)
    if dataset == "ph2":
        return ph2.find_pairs(data_dir, skip_unpaired=skip_unpaired, warn=warn)
    raise PrepareError(f"Unknown dataset {dataset!r}; expected one of {', '.join(DATASETS)}")


def _decoded(tasks, workers, progress, read=None):
    """Yields decoded pairs in task order, decoding up to ``workers`` at a time.

    Threads, not processes: Pillow releases the GIL while it decodes and
    resizes, so threads use every core without starting interpreters or
    forking a parent that may hold TensorFlow. At most ``4 * workers`` results
    wait in memory, whatever the dataset size. ``read`` decodes one task
    (default ``read_pair``, looked up at each call).
    """
    bar = tqdm(total=len(tasks), desc="Decoding", unit="pair", disable=not progress,
               file=sys.stderr)
    pool = ThreadPoolExecutor(max_workers=workers)
    pending = deque()
    read = read or read_pair
    try:
        for task in tasks:
            pending.append(pool.submit(read, task))
            if len(pending) >= 4 * workers:
                yield pending.popleft().result()
                bar.update()
        while pending:
            yield pending.popleft().result()
            bar.update()
    finally:
        # On an error or Ctrl-C, drop the queued decodes instead of finishing them.
        pool.shutdown(wait=True, cancel_futures=True)
        bar.close()


def _plan(pairs, ids, size, resize):
    """Where each decoded pair goes: ``rows[i]`` is (split, row) of task ``i``."""
    by_id = {pair.id: pair for pair in pairs}
    rows = [(name, row) for name in SPLITS for row in range(len(ids[name]))]
    tasks = [(index, by_id[ids[name][row]], size, resize)
             for index, (name, row) in enumerate(rows)]
    return rows, tasks


def prepare_dataset(dataset, data_dir, out_dir=None, image_size=256, split=None, seed=0,
                    workers=None, skip_unpaired=False, resize="fast", progress=True, say=print,
                    folds=None, fold=None):
    """Turns a published dataset folder into ``data_*.npy``, ``mask_*.npy`` and ``split.json``.

    Args:
        dataset: str. ``"isic2018"``, ``"isic2017"`` or ``"ph2"``.
        data_dir: str or Path. The unpacked dataset.
        out_dir: str, Path or None. Where to write. Defaults to ``data_dir``.
        image_size: int or sequence of int. Square side or (height, width).
            Defaults to 256.
        split: str, tuple or None. Train, val, test counts overriding the default.
        seed: int. Seed of the PH2 permutation (recorded for every dataset).
            Defaults to 0.
        workers: int or None. Decoding threads. Defaults to all cores.
        skip_unpaired: bool. Leave out images without masks and vice versa.
            Defaults to False.
        resize: str. "fast" (JPEG draft decoding, box-reduced masks) or "exact"
            (the original's full decode and plain bilinear resize). Defaults to "fast".
        progress: bool. Show a progress bar. Defaults to True.
        say: callable. Receives notes for the user. Defaults to print.
        folds, fold: int or None. Cross-validation: prepare fold `fold` of
            `folds`, drawn with `seed` (see ``folds.fold_split``).

    Returns:
        dict: the manifest written to ``split.json``.

    Raises:
        PrepareError: the folder, a file or the split is unusable; nothing is written.
    """
    size = parse_size(image_size)
    if resize not in RESIZE_MODES:
        raise PrepareError(f"resize must be one of {', '.join(RESIZE_MODES)}, got {resize!r}")
    requested = parse_split(split)
    check_folds(folds, fold)
    if folds is not None and requested is not None:
        raise PrepareError("--split and --folds exclude each other: the folds decide the split")
    data_dir = Path(data_dir)
    out_dir = Path(out_dir) if out_dir is not None else data_dir
    workers = default_workers() if workers is None else int(workers)
    if workers < 1:
        raise PrepareError(f"--workers must be at least 1, got {workers}")
    pairs = find_pairs(dataset, data_dir, skip_unpaired=skip_unpaired, warn=say)
    if not pairs:
        raise PrepareError(f"No image/mask pairs found in {data_dir}")
    if folds is None:
        sizes = split_sizes(len(pairs), get_dataset(dataset).paper_split, requested, say=say)
        ids = assign([p.id for p in pairs], sizes, seed if dataset == "ph2" else None)
    else:
        ids = fold_split([p.id for p in pairs], get_dataset(dataset).paper_split, folds, fold,
                         seed)
        sizes = tuple(len(ids[name]) for name in SPLITS)
    rows, tasks = _plan(pairs, ids, size, resize)
    with AtomicSet(out_dir, dict(zip(SPLITS, sizes)), size) as arrays:
        for index, image, mask in _decoded(tasks, workers, progress):
            arrays.write(*rows[index], image, mask)
        extra = None if folds is None else {"fold": fold, "folds": folds}
        manifest = build_manifest(dataset, data_dir, seed, size, ids, resize, extra)
        arrays.commit(manifest)
    say(f"Wrote {'/'.join(map(str, sizes))} (train/val/test) pairs of "
        f"{size[0]}x{size[1]} to {out_dir}")
    return manifest
