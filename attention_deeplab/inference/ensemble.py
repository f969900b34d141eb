"""Several trained runs predicting as one: the mean of their lesion probabilities.

An `Ensemble` answers the two things inference asks of a keras.Model
(`input_shape` and `predict_on_batch`), so evaluation and prediction, test-time
flips included, take one model or several through the same path. The mean is
linear, so averaging each forward pass equals averaging each member's own TTA
mean (identity and two flips) up to float32 rounding.
"""
from pathlib import Path

import numpy as np

from attention_deeplab.digests import file_sha256
from attention_deeplab.inference.arrays import model_input_size
from attention_deeplab.inference.model import build_inference_model
from attention_deeplab.locations import resolve_run


class Ensemble:
    """Members that take the same input, predicting the mean of their probabilities.

    Args:
        models: list of keras.Model. Each with a sigmoid output B x H x W x 1.
        names: list of str. How errors and metrics.json name each member.

    Raises:
        ValueError: fewer than two members, or one takes another input size.
    """

    def __init__(self, models, names):
        if len(models) < 2:
            raise ValueError("an ensemble needs at least two members")
        sizes = [model_input_size(model) for model in models]
        check_sizes(names, sizes)
        self.models, self.names = list(models), list(names)
        self.input_shape = tuple(models[0].input_shape)

    def predict_on_batch(self, batch):
        """The members' mean probability, summed in float64 so the order does not matter."""
        total = None
        for model in self.models:
            output = np.asarray(model.predict_on_batch(batch), dtype=np.float64)
            total = output if total is None else total + output
        return (total / len(self.models)).astype(np.float32)


def check_sizes(names, sizes):
    """Refuses members whose input (height, width) differs from the first member's.

    Raises:
        ValueError: naming the member and both sizes.
    """
    for name, size in zip(names[1:], sizes[1:]):
        if tuple(size) != tuple(sizes[0]):
            raise ValueError(
                f"ensemble member {name} takes {size[0]}x{size[1]} images but {names[0]} "
                f"takes {sizes[0][0]}x{sizes[0][1]}: the members must take the same input size")


def member_locations(run_dirs):
    """Each member run's RunLocations (its config.json and best weights).

    Raises:
        FileNotFoundError: a folder without config.json or best weights (from resolve_run).
    """
    return [resolve_run(run_dir=run_dir, outputs_in_run=False) for run_dir in run_dirs]


def load_ensemble(locations, **overrides):
    """Builds every member, refusing a mismatched input size before the first build.

    Args:
        locations: list of RunLocations, one per member.
        **overrides: preset, attention, output_stride; None keeps each run's.

    Returns:
        Ensemble.
    """
    names = [str(where.model_run) for where in locations]
    sizes = [where.model_options(**overrides)["input_shape"][:2] for where in locations]
    check_sizes(names, sizes)  # the network builds take seconds each: refuse first
    models = [build_inference_model(where, **overrides) for where in locations]
    return Ensemble(models, names)


def describe_members(locations):
    """What metrics.json records of each member: its run, weights file and their sha256."""
    return [{"run_dir": str(where.model_run), "weights": str(where.weights),
             "weights_sha256": file_sha256(where.weights)} for where in locations]


def load_predictor(run_dir=None, weights=None, **overrides):
    """One run's model, or with several run folders their Ensemble (Predict_Skin.py).

    Args:
        run_dir: str, Path, list of them, or None. The training run folder(s).
        weights: str, Path or None. One model's weights file; not with several runs.
        **overrides: preset, attention, output_stride.

    Raises:
        ValueError: `weights` given with several runs, or members of different sizes.
    """
    run_dirs = as_run_dirs(run_dir)
    if len(run_dirs) > 1:
        refuse_weights(weights)
        return load_ensemble(member_locations(run_dirs), **overrides)
    locations = resolve_run(run_dir=run_dirs[0] if run_dirs else None, weights=weights,
                            outputs_in_run=False)
    return build_inference_model(locations, **overrides)


def refuse_weights(weights):
    """--weights names one model's file: an ensemble takes each run's best weights."""
    if weights is not None:
        raise ValueError("--weights takes one model's file: with several --run-dir, each "
                         "run's best.weights.h5 is used (give --weights without an ensemble)")


def seen_by_members(locations, ids, split="test"):
    """The first member that saw any of `ids`, as (run, count, an id), or None.

    Fold runs each saw the other folds' images: a fold ensemble is scored only on
    images none of its members saw. Seen: trained on, or for the test split also
    validated on (a val split is scored as one run's is). A member whose data folder
    is gone is not checked.
    """
    from attention_deeplab.data.loader import read_manifest

    wanted = set(ids)
    for where in locations:
        data_dir = where.config.data_dir if where.config is not None else None
        try:
            parts = read_manifest(data_dir).get("ids", {}) if data_dir else {}
        except (OSError, ValueError):
            continue
        names = ("train", "val") if split == "test" else ("train",)
        seen = sorted(wanted & {i for name in names for i in parts.get(name) or []})
        if seen:
            return str(where.model_run), len(seen), seen[0]
    return None


def as_run_dirs(run_dir):
    """`--run-dir` given once, several times, or not at all, as a list (empty: not given)."""
    if run_dir is None:
        return []
    if isinstance(run_dir, (str, Path)):
        return [run_dir]
    return list(run_dir)
