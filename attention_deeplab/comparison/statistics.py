"""Paired statistics of per-image scores: Wilcoxon signed-rank, bootstrap interval, Holm."""
import numpy as np
from scipy import stats

N_BOOTSTRAP = 10000
BOOTSTRAP_CHUNK = 1000  # resamples drawn at a time, so memory stays small for 1000 images


def paired_defined(first, other):
    """The pairs where both scores are defined, and how many pairs were left out.

    Args:
        first, other: float arrays of the same length (NaN where a score is undefined).

    Returns:
        (first, other, n_left_out) with the undefined pairs removed.
    """
    first, other = np.asarray(first, np.float64), np.asarray(other, np.float64)
    keep = ~(np.isnan(first) | np.isnan(other))
    return first[keep], other[keep], int(keep.size - keep.sum())


def wilcoxon_p(first, other):
    """Two-sided p-value of the paired Wilcoxon signed-rank test (``scipy.stats.wilcoxon``).

    Zero differences are dropped (scipy's ``zero_method="wilcox"``); with no
    non-zero difference there is no evidence of one, so p is 1. No pair: NaN.
    """
    differences = np.asarray(other, np.float64) - np.asarray(first, np.float64)
    if differences.size == 0:
        return float("nan")
    if not np.any(differences != 0):
        return 1.0
    return float(stats.wilcoxon(differences).pvalue)


def bootstrap_ci(differences, n_bootstrap=N_BOOTSTRAP, seed=0, level=0.95):
    """Percentile bootstrap interval of the mean of paired differences.

    Resample ``b`` takes the images ``default_rng(seed).integers(0, n, (n_bootstrap, n))[b]``
    (drawn in chunks of rows, which gives the same numbers); the interval is
    the 2.5th and 97.5th percentiles (numpy's linear interpolation) of the means.

    Returns:
        (low, high), NaN for no differences.
    """
    differences = np.asarray(differences, np.float64)
    n = differences.size
    if n == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = np.empty(n_bootstrap)
    for start in range(0, n_bootstrap, BOOTSTRAP_CHUNK):
        rows = min(BOOTSTRAP_CHUNK, n_bootstrap - start)
        means[start:start + rows] = differences[rng.integers(0, n, (rows, n))].mean(axis=1)
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


def holm(p_values):
    """Holm's step-down adjusted p-values; NaN entries stay NaN and do not count.

    The i-th smallest of m p-values becomes max over j <= i of min(1, (m - j + 1) p_(j)).
    """
    p_values = np.asarray(p_values, np.float64)
    adjusted = np.full(p_values.shape, np.nan)
    defined = np.flatnonzero(~np.isnan(p_values))
    order = defined[np.argsort(p_values[defined], kind="stable")]
    m, running = len(order), 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def compare_paired(first, other, n_bootstrap=N_BOOTSTRAP, seed=0):
    """One run's per-image scores against the first's, aligned image by image.

    Returns:
        dict: p_value, mean_difference (other - first), ci95 (a pair),
        n_images (pairs used) and n_left_out (pairs with an undefined score).
    """
    first, other, left_out = paired_defined(first, other)
    differences = other - first
    return {"p_value": wilcoxon_p(first, other),
            "mean_difference": float(differences.mean()) if differences.size else float("nan"),
            "ci95": list(bootstrap_ci(differences, n_bootstrap, seed)),
            "n_images": int(differences.size), "n_left_out": left_out}


def compare_all(first, others, scores=("dice", "jaccard"), n_bootstrap=N_BOOTSTRAP, seed=0):
    """Every run against the first, each score, with Holm's correction across the runs.

    Args:
        first: dict score -> per-image array of the first run (the reference).
        others: dict name -> (dict score -> per-image array aligned with `first`).
        scores: the per-image scores tested. Defaults to Dice and Jaccard.

    Returns:
        dict name -> score -> the ``compare_paired`` dict plus p_holm. Holm's
        family is one score's comparisons (one per run after the first); with
        a single comparison p_holm equals p_value.
    """
    results = {name: {score: compare_paired(first[score], values[score], n_bootstrap, seed)
                      for score in scores} for name, values in others.items()}
    for score in scores:
        adjusted = holm([results[name][score]["p_value"] for name in others])
        for name, p_holm in zip(others, adjusted):
            results[name][score]["p_holm"] = float(p_holm)
    return results
