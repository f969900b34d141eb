"""The rows of a comparison: one run, a group of runs (seeds) or a method's cross-validation folds.

A group of seeds holds runs evaluated on the same images: its per-image score
is each image's mean over the runs, its pooled scores the mean +- std over runs.
A group of folds holds runs evaluated on disjoint images: its per-image scores
are concatenated, its pooled scores come from the folds' confusion counts added
up (one score over every case), the AUC is the mean across folds, and each score
is also given as mean +- std across folds.
"""
from dataclasses import dataclass

import numpy as np

from attention_deeplab import metrics
from attention_deeplab.errors import ComparisonError

POOLED_KEYS = ("f1", "jaccard", "accuracy", "sensitivity", "specificity", "auc")
# The paper's metrics as its code computed them (metrics.json's "as_original" block).
AS_ORIGINAL_KEYS = ("f1", "jaccard", "accuracy", "sensitivity", "specificity", "auc")


@dataclass
class Entry:
    """A row: its name, its evaluations, and how they combine ("run", "seeds" or "folds")."""

    name: str
    evaluations: list
    kind: str = "run"

    def per_image(self, score):
        """(ids, values): the per-image scores this row is tested with."""
        runs = self.evaluations
        if self.kind == "folds":
            return ([i for run in runs for i in run.ids],
                    np.concatenate([run.scores[score] for run in runs]))
        ids = runs[0].ids
        stacked = np.stack([aligned(run, ids, score) for run in runs])
        # An image undefined in one run of the group is undefined for the group.
        return ids, stacked.mean(axis=0)

    def pooled(self):
        """score -> {"value", "mean", "std"}: the row's pooled scores."""
        values = {key: np.array([_number(run.metrics.get("pooled", {}).get(key))
                                 for run in self.evaluations]) for key in POOLED_KEYS}
        cells = {key: _spread(array) for key, array in values.items()}
        if self.kind == "folds":
            counts = np.concatenate([run.counts for run in self.evaluations])
            total = metrics.pooled_scores(counts)
            for key in POOLED_KEYS[:-1]:  # the AUC stays the mean across folds
                cells[key].update(value=total[key], pooled=True)
        return cells

    def as_original(self):
        """score -> cell of the paper's metrics as the original computed them, or None."""
        blocks = [run.metrics.get("as_original") for run in self.evaluations]
        if any(not block for block in blocks):
            return None
        return {key: _spread(np.array([_number(block.get(key)) for block in blocks]))
                for key in AS_ORIGINAL_KEYS}


def _number(value):
    return float("nan") if value is None else float(value)


def _spread(values):
    """{"value": mean, "mean", "std"} of the defined values (std over runs or folds)."""
    defined = values[~np.isnan(values)]
    mean = float(defined.mean()) if defined.size else float("nan")
    std = float(defined.std()) if defined.size > 1 else None
    return {"value": mean, "mean": mean, "std": std if len(values) > 1 else None}


def aligned(run, ids, score):
    """A run's per-image `score` in the order of `ids` (the ids were checked to match)."""
    position = {image_id: i for i, image_id in enumerate(run.ids)}
    return run.scores[score][[position[image_id] for image_id in ids]]


def first_difference(ids, other_ids):
    """The first id (in `ids`' order, then `other_ids`') that only one of the two lists holds."""
    others, own = set(other_ids), set(ids)
    for image_id in ids:
        if image_id not in others:
            return image_id
    for image_id in other_ids:
        if image_id not in own:
            return image_id
    return None


def check_same_images(reference_name, reference_ids, name, ids):
    """Refuses two image lists that differ, naming the first id that differs."""
    differing = first_difference(reference_ids, ids)
    if differing is None:
        return
    holder, other = ((reference_name, name) if differing in set(reference_ids)
                     else (name, reference_name))
    raise ComparisonError(f"{name} and {reference_name} were evaluated on different images "
                          f"({len(ids)} and {len(reference_ids)}): the first that differs is "
                          f"{differing}, in {holder} but not in {other}")


def check_entry(entry):
    """Seeds: same images in every run. Folds: every case tested in one fold only."""
    runs = entry.evaluations
    if entry.kind != "folds":
        for run in runs[1:]:
            check_same_images(runs[0].name, runs[0].ids, run.name, run.ids)
        return
    seen = {}
    for run in runs:
        for image_id in run.ids:
            if image_id in seen:
                raise ComparisonError(f"{run.name} and {seen[image_id]} both test {image_id}: "
                                      "folds must test each case once (--folds)")
            seen[image_id] = run.name


def check_comparable(entries, allow_different_data=False):
    """Refuses rows evaluated on different images, or on different data unless allowed."""
    for entry in entries:
        check_entry(entry)
    first = entries[0]
    first_ids = first.per_image("dice")[0]
    for entry in entries[1:]:
        check_same_images(first.name, first_ids, entry.name, entry.per_image("dice")[0])
    if allow_different_data:
        return
    reference = first.evaluations[0]
    expected = ({run.fingerprint for run in first.evaluations} if first.kind == "folds"
                else {reference.fingerprint})
    for entry in entries:
        found = {run.fingerprint for run in entry.evaluations}
        if None in expected or None in found:
            continue  # an evaluation written before fingerprints were recorded
        if found != expected:
            run = next(r for r in entry.evaluations if r.fingerprint not in expected) if (
                found - expected) else entry.evaluations[0]
            raise ComparisonError(
                f"{run.name} was evaluated on other data than {reference.name} "
                f"(data fingerprint {str(run.fingerprint)[:12]} vs "
                f"{str(reference.fingerprint)[:12]}): pass --allow-different-data to "
                "compare them anyway")
