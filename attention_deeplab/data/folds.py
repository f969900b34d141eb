"""K-fold cross-validation splits: every case tested in exactly one fold."""
import numpy as np

from attention_deeplab.errors import PrepareError


def check_folds(folds, fold, count=None):
    """Refuses a fold request that cannot be met (the error names the argument)."""
    if folds is None and fold is None:
        return
    if folds is None or fold is None:
        raise PrepareError("--folds K and --fold I go together (I from 0 to K-1)")
    if folds < 2:
        raise PrepareError(f"--folds must be at least 2, got {folds}")
    if not 0 <= fold < folds:
        raise PrepareError(f"--fold must lie in 0..{folds - 1} for --folds {folds}, got {fold}")
    if count is not None and count < folds:
        raise PrepareError(f"--folds {folds} needs at least {folds} pairs, found {count}")


def fold_split(ids, default, folds, fold, seed=0):
    """The train/val/test ids of one fold of a seeded K-fold partition.

    The sorted ids are permuted with ``numpy.random.default_rng(seed)`` and cut
    into `folds` parts of sizes differing by at most one (``numpy.array_split``):
    part `fold` is the test set. Validation cases are drawn from the remaining
    ones with ``default_rng([seed, fold])``, in the dataset's default proportion
    of validation to training (PH2 80/20, 5 folds: 128 train, 32 val, 40 test).

    Args:
        ids: list of str. Sorted ids.
        default: tuple of int. The dataset's train, val, test sizes.
        folds: int. Number of folds K (at least 2).
        fold: int. This fold, 0..K-1.
        seed: int. Seed of the partition. Defaults to 0.

    Returns:
        dict: split name -> sorted list of ids.
    """
    check_folds(folds, fold, len(ids))
    order = [ids[i] for i in np.random.default_rng(seed).permutation(len(ids))]
    parts = np.array_split(np.arange(len(order)), folds)
    test = [order[i] for i in parts[fold]]
    rest = [order[i] for k, part in enumerate(parts) if k != fold for i in part]
    n_val = round(len(rest) * default[1] / (default[0] + default[1]))
    picked = set(np.random.default_rng([seed, fold]).permutation(len(rest))[:n_val].tolist())
    val = [image_id for i, image_id in enumerate(rest) if i in picked]
    train = [image_id for i, image_id in enumerate(rest) if i not in picked]
    if not train or not val:
        raise PrepareError(f"Too few pairs ({len(ids)}) for {folds} folds with a validation "
                           f"set: got {len(train)}/{len(val)}/{len(test)} (train/val/test)")
    return {"train": sorted(train), "val": sorted(val), "test": sorted(test)}
