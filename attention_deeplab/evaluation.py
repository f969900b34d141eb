"""Evaluate a trained model on a prepared split: metrics, curves, masks and overlays.

Called by ``Evaluate_Skin.py``. Everything is written to one folder (by default
``<run-dir>/evaluation/<split>``, ``_tta`` appended under test-time flips) so an
evaluation is never only on stdout.
"""
import json
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from attention_deeplab import evaluation_plots as plots
from attention_deeplab import metrics
from attention_deeplab.data.loader import load_split, read_manifest
from attention_deeplab.evaluation_report import build_report, format_table, write_per_image_csv
from attention_deeplab.inference import predict_array
from attention_deeplab.metrics_original import scores_as_original
from attention_deeplab.runs import DATASET_FOLDERS


def resolve_locations(dataset=None, run_dir=None, data_dir=None, weights=None):
    """Where an evaluation writes, what it reads, and the run its model comes from.

    A weights file inside a run folder (beside its config.json) takes that
    run's model options; elsewhere (an authors' checkpoint) there is no run.
    A `run_dir` without config.json, given `weights`, only says where to write.

    Returns:
        (run_dir or None, data_dir, config dict or None, model_run or None):
        the output folder's run, the prepared data, and the training run
        (folder and config) whose options rebuild the model.
    """
    from attention_deeplab.runs import CONFIG_NAME, read_config

    if run_dir is None and weights is None:
        run_dir = DATASET_FOLDERS[dataset or "isic2018"][1]
    model_run = None
    for candidate in (run_dir, None if weights is None else Path(weights).parent):
        if candidate is not None and read_config(candidate) is not None:
            model_run = Path(candidate)
            break
    if run_dir is None:
        run_dir = model_run
    if model_run is None and weights is None:
        raise FileNotFoundError(f"{Path(run_dir) / CONFIG_NAME} not found: train a model into "
                                f"{run_dir} with Train_Skin_Lesion_Segmentation.py first, "
                                "or give --weights")
    config = read_config(model_run) if model_run is not None else None
    if data_dir is None:
        if dataset is None and config and config.get("data_dir"):
            data_dir = config["data_dir"]
        else:
            data_dir = DATASET_FOLDERS[dataset or (config or {}).get("dataset") or "isic2018"][0]
    return (None if run_dir is None else Path(run_dir)), Path(data_dir), config, model_run


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


def score(probabilities, masks, threshold=0.5):
    """Every metric of a split from its probabilities and 0..255 masks.

    Returns:
        dict: pooled (scores, counts, auc, average_precision), per_image
        (score arrays), summary, counts (N x 4), curve, prediction and truth
        (bool N x H x W), as_original (the paper's columns as its code computed them).
    """
    truth = metrics.binarize_masks(masks)
    prediction = metrics.binarize_probabilities(probabilities, threshold)
    counts = metrics.confusion_counts(prediction, truth)
    pooled = metrics.pooled_scores(counts)
    positives, negatives = metrics.sorted_scores_by_class(probabilities, truth)
    pooled["auc"], pooled["average_precision"] = metrics.ranking_scores(positives, negatives)
    per_image = metrics.per_image_scores(counts)
    return {"pooled": pooled, "per_image": per_image, "counts": counts,
            "summary": metrics.summarize_per_image(per_image),
            "curve": metrics.curve_points(positives, negatives),
            "prediction": prediction, "truth": truth,
            "as_original": scores_as_original(prediction, masks)}


def default_out(run_dir, weights, dataset, split, tta):
    """``<run-dir>/evaluation/<split>[_tta]``; a bare weights file's under ``output/<dataset>``."""
    name = split + ("_tta" if tta else "")
    if run_dir is not None:
        return Path(run_dir) / "evaluation" / name
    base = Path(DATASET_FOLDERS.get(dataset, DATASET_FOLDERS["isic2018"])[1])
    return base / "evaluation" / f"{Path(weights).name.split('.')[0]}_{name}"


def write_outputs(out, result, images, ids, report, probabilities=None):
    """metrics.json, per_image.csv, probabilities.npy if given, and the figures."""
    out = plots.ensure_dir(out)
    (out / "metrics.json").write_text(json.dumps(report, indent=2, allow_nan=False) + "\n")
    write_per_image_csv(out / "per_image.csv", ids, result["counts"], result["per_image"])
    if probabilities is not None:
        np.save(out / "probabilities.npy", probabilities)
    plots.write_figures(out, result, images, ids)
    return out


def _load_model(run_dir, weights, images, overrides):
    from attention_deeplab.runs import load_inference_model

    # A bare weights file has no recorded input size: the prepared arrays' size it is.
    input_shape = None if run_dir is not None else (*images.shape[1:3], 3)
    return load_inference_model(run_dir=run_dir, weights=weights, input_shape=input_shape,
                                **overrides)


def evaluate(dataset=None, run_dir=None, data_dir=None, weights=None, split="test",
             threshold=0.5, tta=False, batch_size=8, save_probabilities=False, out=None,
             preset=None, attention=None, output_stride=None, model=None, stream=None):
    """Evaluates a trained model on a prepared split and writes the results.

    Args:
        dataset: str or None. "isic2018", "isic2017" or "ph2": default folders.
        run_dir: str, Path or None. Training run folder (config.json, best weights);
            without config.json, given `weights`, only where the outputs go.
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

    Returns:
        dict: the report written to metrics.json.
    """
    if split not in ("test", "val"):
        raise ValueError(f"--split must be test or val, got {split!r}")
    if threshold != "auto" and not 0 <= float(threshold) < 1:
        raise ValueError(f"--threshold must be 'auto' or a number in [0, 1), got {threshold!r}")
    if model is None or run_dir is not None:
        run_dir, data_dir, config, model_run = resolve_locations(dataset, run_dir, data_dir,
                                                                 weights)
    else:
        data_dir, config = Path(data_dir or DATASET_FOLDERS[dataset or "isic2018"][0]), None
        model_run = None
    images, masks = load_split(data_dir, split)
    manifest = read_manifest(data_dir)
    ids = image_ids(manifest, split, len(images))
    if model is None:
        overrides = {"preset": preset, "attention": attention, "output_stride": output_stride}
        model = _load_model(model_run, weights, images, overrides)
    selection = None
    if threshold == "auto":
        selection = choose_threshold(model, data_dir, batch_size, tta)
        threshold = selection["threshold"]
    with tqdm(total=len(images), desc=f"{split} split", unit="image") as progress:
        probabilities = predict_array(model, images, batch_size, tta, progress)
    result = score(probabilities, masks, float(threshold))
    name = manifest.get("dataset") or dataset or (config or {}).get("dataset")
    report = build_report(name, split, data_dir, model_run, weights, images, threshold, selection,
                          tta, result)
    if out is None:
        out = default_out(run_dir, weights, name, split, tta)
    write_outputs(out, result, images, ids, report, probabilities if save_probabilities else None)
    stream = stream or sys.stdout
    print(format_table(report), file=stream)
    print(f"Written to {out}/ (metrics.json, per_image.csv, ROC.png, Precision_recall.png, "
          "masks/, overlays/, samples.png)", file=stream)
    return report
