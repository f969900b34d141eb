"""Evaluate a trained model on a prepared split: metrics, curves, masks and overlays.

Called by ``Evaluate_Skin.py``. Everything is written to one folder (by default
``<run-dir>/evaluation/<split>``, ``_tta`` appended under test-time flips) so an
evaluation is never only on stdout.
"""
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from attention_deeplab import metrics
from attention_deeplab.data.loader import load_split, read_manifest
from attention_deeplab.datasets import DATASETS
from attention_deeplab.evaluation import figures, native
from attention_deeplab.evaluation.html_report import write_html_report
from attention_deeplab.evaluation.report import (
    EvaluationContext, build_report, format_table, write_metrics_json, write_per_image_csv)
from attention_deeplab.evaluation.scores import score
from attention_deeplab.inference import ensemble
from attention_deeplab.inference.arrays import predict_array
from attention_deeplab.inference.model import build_inference_model
from attention_deeplab.locations import (
    EVALUATION_DIR, METRICS_NAME, PER_IMAGE_NAME, PROBABILITIES_NAME, RunLocations,
    default_folders, resolve_run)


def image_ids(manifest, split, count):
    """The ids of a split from its manifest, or ``<split>_0000``... when it has none."""
    ids = manifest.get("ids", {}).get(split)
    if ids is None:
        return [f"{split}_{i:04d}" for i in range(count)]
    if len(ids) != count:
        raise ValueError(f"split.json lists {len(ids)} {split} ids but the arrays hold "
                         f"{count} images: prepare the data again")
    # Ids become file names: never let one escape the output folder.
    return [str(i).replace("/", "_").replace("\\", "_") for i in ids]


def choose_threshold(model, data_dir, batch_size=8, tta=False):
    """The threshold that maximises pooled Dice on the validation split.

    Returns:
        dict: threshold, chosen_on, val_dice at it and at 0.5.
    """
    images, masks = load_split(data_dir, "val")
    with tqdm(total=len(images), desc="val (threshold)", unit="image") as progress:
        probabilities = predict_array(model, images, batch_size, tta, progress)
    truth = metrics.binarize_masks(masks)
    positives, negatives = metrics.sorted_scores_by_class(probabilities, truth)
    threshold, dice = metrics.best_dice_threshold(positives, negatives)
    _, dice_half = metrics.best_dice_threshold(positives, negatives, candidates=[0.5])
    return {"threshold": threshold, "chosen_on": "val", "val_dice": dice,
            "val_dice_at_0.5": dice_half}


def default_out(run_dir, weights, dataset, split, tta, is_ensemble=False):
    """``<run-dir>/evaluation/<split>[_tta][_ensemble]`` (an ensemble's under its first
    member's run); a bare weights file's under ``output/<dataset>``."""
    name = split + ("_tta" if tta else "") + ("_ensemble" if is_ensemble else "")
    if run_dir is not None:
        return Path(run_dir) / EVALUATION_DIR / name
    base = default_folders(dataset if dataset in DATASETS else None)[1]
    return base / EVALUATION_DIR / f"{Path(weights).name.split('.')[0]}_{name}"


def write_outputs(out, scores, images, ids, report, probabilities=None):
    """metrics.json, per_image.csv, probabilities.npy if given, and the figures."""
    out = figures.ensure_dir(out)
    write_metrics_json(out / METRICS_NAME, report)
    write_per_image_csv(out / PER_IMAGE_NAME, ids, scores.counts, scores.per_image)
    if probabilities is not None:
        np.save(out / PROBABILITIES_NAME, probabilities)
    figures.write_figures(out, scores, images, ids)
    return out


def _locations(dataset, run_dir, data_dir, weights, model):
    """The run, data and weights to evaluate; a given `model` needs no weights file."""
    if model is None or run_dir is not None:
        return resolve_run(dataset, run_dir, data_dir, weights, require_weights=model is None)
    return RunLocations(run_dir=None, data_dir=Path(data_dir or default_folders(dataset)[0]),
                        weights=None if weights is None else Path(weights), model_run=None,
                        config=None)


def _ensemble_members(where, run_dirs, weights, model, manifest, split):
    """Each member's RunLocations for several runs (else None), refusing an ensemble
    scored on images one of its members saw (fold runs) before any network is built."""
    if len(run_dirs) < 2:
        return None
    ensemble.refuse_weights(weights)
    if model is not None:
        raise ValueError("give either a model or several run folders, not both")
    members = [where] + ensemble.member_locations(run_dirs[1:])
    seen = ensemble.seen_by_members(members, manifest.get("ids", {}).get(split) or [], split)
    if seen:
        run, count, example = seen
        raise ValueError(f"ensemble member {run} saw {count} of the {split} images (e.g. "
                         f"{example}) in training: score an ensemble on images none of its "
                         "members saw (fold runs: Predict_Skin.py on new images)")
    return members


def _load_model(where, members, image_size, overrides):
    """The ensemble of `members`, or the one model `where` describes."""
    if members:
        return ensemble.load_ensemble(members, **overrides)
    # A bare weights file has no recorded input size: the prepared arrays' size it is.
    input_shape = None if where.model_run is not None else (*image_size, 3)
    return build_inference_model(where, input_shape, **overrides)


def evaluate(dataset=None, run_dir=None, data_dir=None, weights=None, split="test",
             threshold=0.5, tta=False, batch_size=8, save_probabilities=False, out=None,
             preset=None, attention=None, output_stride=None, model=None, stream=None,
             native_resolution=False):
    """Evaluates a trained model on a prepared split and writes the results.

    Args:
        dataset: str or None. "isic2018", "isic2017" or "ph2": default folders.
        run_dir: str, Path, list of them, or None. Training run folder (config.json,
            best weights); without config.json, given `weights`, only where the outputs
            go. Several: their ensemble (the mean probability; see
            ``inference/ensemble.py``), written under the first's ``<split>_ensemble``.
        data_dir: str, Path or None. Prepared arrays; defaults to the run's data.
        weights: str, Path or None. Weights file; defaults to the run's best.
        split: str. "test" or "val". Defaults to "test".
        threshold: float or "auto". Lesion where the probability is strictly
            above it; "auto" maximises pooled Dice on the validation split.
        tta: bool. Average identity, horizontal and vertical flips.
        batch_size: int. Images per forward pass. Defaults to 8.
        save_probabilities: bool. Also write probabilities.npy.
        out: str, Path or None. Output folder; see ``default_out``.
        preset, attention, output_stride: model option overrides.
        model: keras.Model or None. An already loaded model (notebooks, tests).
        stream: file-like or None. Where the table is printed; defaults to stdout.
        native_resolution: bool. Score each image at its original size against its
            original mask (data from Prepare_ISIC2018.py --official); see
            ``evaluation/native.py``. Outputs go to ``<split>[_tta]_native``.

    Returns:
        dict: the report written to metrics.json.
    """
    if split not in ("test", "val"):
        raise ValueError(f"--split must be test or val, got {split!r}")
    if threshold != "auto" and not 0 <= float(threshold) < 1:
        raise ValueError(f"--threshold must be 'auto' or a number in [0, 1), got {threshold!r}")
    run_dirs = ensemble.as_run_dirs(run_dir)
    where = _locations(dataset, run_dirs[0] if run_dirs else None, data_dir, weights, model)
    images, masks = load_split(where.data_dir, split)
    manifest = read_manifest(where.data_dir)
    ids = image_ids(manifest, split, len(images))
    sources = native.mask_sources(manifest, where.data_dir, split) if native_resolution else None
    members = _ensemble_members(where, run_dirs, weights, model, manifest, split)
    if model is None:
        model = _load_model(where, members, images.shape[1:3], {
            "preset": preset, "attention": attention, "output_stride": output_stride})
    selection = None
    if threshold == "auto":
        selection = choose_threshold(model, where.data_dir, batch_size, tta)
        threshold = selection["threshold"]
    with tqdm(total=len(images), desc=f"{split} split", unit="image") as progress:
        probabilities = predict_array(model, images, batch_size, tta, progress)
    name = manifest.get("dataset") or dataset or (where.config.dataset if where.config else None)
    if out is None:
        out = default_out(where.run_dir, where.weights, name, split, tta, bool(members))
        out = Path(f"{out}_native") if native_resolution else out
    if native_resolution:
        scores = native.score_native(probabilities, sources, ids, float(threshold),
                                     figures.ensure_dir(Path(out) / "masks"),
                                     native.mask_reader(manifest))
    else:
        scores = score(probabilities, masks, float(threshold))
    context = EvaluationContext(
        dataset=name, split=split, data_dir=where.data_dir,
        run_dir=None if members else where.model_run, weights=None if members else where.weights, image_size=tuple(images.shape[1:3]), threshold=float(threshold),
        threshold_selection=selection, tta=bool(tta))
    report = build_report(context, scores)
    report["data_fingerprint"] = manifest.get("fingerprint")  # Compare_Runs.py checks it
    if members:
        report["ensemble"] = {"combined": "mean of the members' probabilities"
                              + (", each after its own flips" if tta else ""),
                              "members": ensemble.describe_members(members)}
    if native_resolution:
        report.update(native_resolution=True,
                      challenge_score=report["per_image"]["isic_challenge_score"])
        native.write_native(out, scores, ids, report)
    else:
        write_outputs(out, scores, images, ids, report,
                      probabilities if save_probabilities else None)
    write_html_report(out, report, ids, scores.counts, scores.per_image)
    stream = stream or sys.stdout
    print(format_table(report), file=stream)
    written = "masks/" if native_resolution else "masks/, overlays/, thumbs/, samples.png"
    print(f"Written to {out}/ (metrics.json, per_image.csv, ROC.png, Precision_recall.png, "
          f"{written}, report.html)", file=stream)
    return report
