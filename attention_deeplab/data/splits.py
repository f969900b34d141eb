"""Train/val/test sizes and the assignment of sorted ids to them."""
import json
from collections import Counter

import numpy as np

from attention_deeplab.errors import PrepareError

SPLITS = ("train", "val", "test")


def parse_split(text):
    """Parses ``--split TRAIN,VAL,TEST`` (e.g. ``"1815,259,520"``) into three ints."""
    if text is None:
        return None
    parts = text.split(",") if isinstance(text, str) else list(text)
    try:
        sizes = tuple(int(p) for p in parts)
    except ValueError:
        sizes = ()
    if len(sizes) != 3 or min(sizes) < 0 or sizes[0] < 1:
        raise PrepareError(
            f"--split must be three counts TRAIN,VAL,TEST (train >= 1), got {text!r}"
        )
    return sizes


def split_sizes(count, default, requested=None, say=print):
    """Decides how many of ``count`` pairs go to train, val and test.

    With no request and ``count`` equal to the default total, the paper's split
    is used. A different ``count`` (a subset, a synthetic set) scales it:
    train = round(count * train / total), val likewise, test the rest.

    Args:
        count: int. Number of pairs found.
        default: tuple of int. The dataset's train, val, test sizes.
        requested: tuple of int or None. An explicit ``--split``.
        say: callable. Receives a note when the split is scaled or partial.

    Returns:
        tuple of int: train, val, test sizes.

    Raises:
        PrepareError: the split needs more pairs than there are.
    """
    if requested is not None:
        if sum(requested) > count:
            raise PrepareError(
                f"--split {','.join(map(str, requested))} needs {sum(requested)} pairs "
                f"but the folder holds only {count}."
            )
        if sum(requested) < count:
            say(f"--split uses {sum(requested)} of {count} pairs; the last "
                f"{count - sum(requested)} ids are left out.")
        return tuple(requested)
    total = sum(default)
    if count == total:
        return tuple(default)
    train = round(count * default[0] / total)
    val = round(count * default[1] / total)
    sizes = (train, val, count - train - val)
    if min(sizes) < 1:
        raise PrepareError(
            f"Too few pairs ({count}) for a train/val/test split scaled from "
            f"{'/'.join(map(str, default))}: got {'/'.join(map(str, sizes))}. "
            "Add pairs or pass an explicit --split."
        )
    say(f"Found {count} pairs instead of {total}: split scaled to "
        f"{'/'.join(map(str, sizes))} (train/val/test).")
    return sizes


def assign(ids, sizes, seed=None):
    """Splits sorted ids in order, after a seeded permutation when ``seed`` is given.

    Args:
        ids: list of str. Sorted ids.
        sizes: tuple of int. Train, val, test sizes.
        seed: int or None. Seed of ``numpy.random.default_rng(seed).permutation``
            (PH2); None keeps the sorted order (ISIC).

    Returns:
        dict: split name -> list of ids.
    """
    ids = list(ids)
    if seed is not None:
        ids = [ids[i] for i in np.random.default_rng(seed).permutation(len(ids))]
    bounds = np.cumsum((0,) + tuple(sizes))
    return {name: ids[bounds[i]:bounds[i + 1]] for i, name in enumerate(SPLITS)}


def proportional_sizes(count, text, say=print):
    """Train, val, test sizes from ``--split`` as proportions (``0.7,0.1,0.2``) or counts.

    Proportions (any part with a decimal point) must sum to 1: train and val are
    rounded, test takes the rest. Counts go through ``parse_split``/``split_sizes``.
    """
    parts = text.split(",") if isinstance(text, str) else [str(p) for p in text]
    if not any("." in part for part in parts):
        return split_sizes(count, None, parse_split(text), say=say)
    try:
        shares = [float(part) for part in parts]
    except ValueError:
        shares = []
    if len(shares) != 3 or min(shares) < 0 or abs(sum(shares) - 1) > 1e-6:
        raise PrepareError(f"--split must be three proportions summing to 1 (e.g. 0.7,0.1,0.2) "
                           f"or three counts, got {text!r}")
    train, val = round(count * shares[0]), round(count * shares[1])
    if train < 1 or train + val > count:
        raise PrepareError(f"--split {text} leaves {train} of {count} pairs for training")
    return train, val, count - train - val


def read_split_file(path, known):
    """split -> ids from a JSON file ``{"train": [...], "val": [...], "test": [...]}``.

    Every id must be one of ``known`` and listed once; unlisted ids are left out.

    Raises:
        PrepareError: the file is unreadable, or an id is unknown or listed twice.
    """
    try:
        with open(path) as handle:
            listed = json.load(handle)
    except (OSError, ValueError) as error:
        raise PrepareError(f"Cannot read --split-file {path}: {error}") from error
    if not isinstance(listed, dict) or set(listed) != set(SPLITS) or not all(
            isinstance(listed[name], list) for name in SPLITS):
        raise PrepareError(f"--split-file {path} must hold one JSON object with the lists "
                           '"train", "val" and "test" of ids')
    ids = [str(i) for name in SPLITS for i in listed[name]]
    unknown = sorted(set(ids) - set(known))
    twice = sorted(i for i, times in Counter(ids).items() if times > 1)
    if unknown or twice or not listed["train"]:
        raise PrepareError(f"--split-file {path}: " + "; ".join(filter(None, [
            unknown and f"ids without an image/mask pair: {', '.join(unknown[:5])}",
            twice and f"ids listed twice: {', '.join(twice[:5])}",
            not listed["train"] and "no training ids"])))
    return {name: [str(i) for i in listed[name]] for name in SPLITS}
