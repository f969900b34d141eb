"""The whole pipeline at a small fixed size, reduced to what must hold on any x86-64 CPU.

Runs, in one process and through the top-level scripts only (the interface a
refactoring must keep): the synthetic generator, Prepare_ISIC2018.py at 64x64,
2 epochs of the tiny preset from scratch, and Evaluate_Skin.py on the test split
with a committed checkpoint (tests/fixtures/end_to_end/checkpoint/). Three kinds
of result, each compared as tightly as the CPU allows (test_end_to_end_reference):

- exact: the prepared arrays and split (digests), the batches each epoch draws,
  and the metrics the evaluation code computes from the committed probabilities;
- inference: the committed checkpoint's probabilities, within a float32 bound;
- training: the losses of the 2 epochs (rounding moves them; a chaotic 2-epoch
  model's masks are not compared).

Regenerate the committed reference (only for a change that alters numbers on
purpose; say why in the commit). It trains the checkpoint for REFERENCE_EPOCHS:

    KERAS_BACKEND=tensorflow .venv/bin/python -m tests.end_to_end.pipeline --write-reference
"""
import argparse
import csv
import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

REFERENCE = Path(__file__).resolve().parents[1] / "fixtures" / "end_to_end"
SEED = 3
SIZE = 64
EPOCHS = 2
REFERENCE_EPOCHS = 12  # the checkpoint's: long enough to predict lesions at 0.5
TRAIN = {"preset": "tiny", "backbone-weights": "none", "batch-size": "4", "lr": "1e-3",
         "seed": str(SEED)}


def _run(module_main, argv):
    status = module_main(argv)
    if status:
        raise RuntimeError(f"{argv} exited with {status}")


def _digest(*arrays):
    hashed = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        hashed.update(f"{array.dtype}{array.shape}".encode())
        hashed.update(array.tobytes())
    return hashed.hexdigest()


def prepare(data):
    """Synthetic images, then Prepare_ISIC2018.py; the arrays' and split's digests."""
    import Prepare_ISIC2018
    from attention_deeplab.data import synthetic

    _run(synthetic.main, ["--layout", "isic2018", "--count", "40", "--out", str(data),
                          "--seed", str(SEED), "--width", "80", "160"])
    _run(Prepare_ISIC2018.main, ["--data-dir", str(data), "--size", str(SIZE),
                                 "--split", "24,8,8", "--no-progress", "--workers", "1"])
    exact = {f"arrays.{kind}_{split}": _digest(np.load(data / f"{kind}_{split}.npy"))
             for split in ("train", "val", "test") for kind in ("data", "mask")}
    exact["split"] = json.loads((data / "split.json").read_text())["ids"]
    return exact


def batches(data, epochs):
    """The image indices of every batch the run's training and statistics draw."""
    from attention_deeplab.data.loader import load_split
    from attention_deeplab.training.loop import _sequences

    splits = {name: load_split(data, name) for name in ("train", "val")}
    config = SimpleNamespace(batch_size=int(TRAIN["batch-size"]), seed=SEED, augment=False,
                             data_parallel=False, precise_bn_images=512)
    train, _, stats = _sequences(splits, config)
    drawn = {}
    for name, sequence in (("train", train), ("stats", stats)):
        for epoch in range(epochs):
            sequence.epoch = epoch
            drawn[f"batches.{name}.{epoch + 1}"] = [
                sequence.batch_indices(i).tolist() for i in range(len(sequence))]
    return drawn


def train(data, run, epochs):
    """Train_Skin_Lesion_Segmentation.py from scratch; each epoch's history row."""
    import Train_Skin_Lesion_Segmentation

    options = [item for key, value in TRAIN.items() for item in (f"--{key}", value)]
    _run(Train_Skin_Lesion_Segmentation.main, ["--data-dir", str(data), "--run-dir", str(run),
                                               *options, "--epochs", str(epochs), "--quiet"])
    with open(run / "history.csv") as stream:
        return {row["epoch"]: {key: float(row[key]) for key in ("loss", "val_loss", "dice")}
                for row in csv.DictReader(stream)}


def infer(checkpoint, data, out):
    """Evaluate_Skin.py with the checkpoint on the test split: its probabilities."""
    import Evaluate_Skin

    _run(Evaluate_Skin.main, ["--run-dir", str(checkpoint), "--data-dir", str(data),
                              "--save-probabilities", "--out", str(out)])
    return np.load(out / "probabilities.npy")


def given_metrics(probabilities, data):
    """Every score the evaluation code computes from `probabilities` (float64
    arithmetic on counts and sorted scores): the pooled, per-image, original's and
    --threshold auto's."""
    from attention_deeplab import metrics
    from attention_deeplab.data.loader import load_split
    from attention_deeplab.evaluation.evaluator import score
    from attention_deeplab.evaluation.report import json_safe

    _, masks = load_split(data, "test")
    scores = score(probabilities, masks)
    positives, negatives = metrics.sorted_scores_by_class(probabilities, scores.truth)
    threshold, dice = metrics.best_dice_threshold(positives, negatives)
    return json_safe({"pooled": scores.pooled, "per_image": scores.summary,
                      "as_original": scores.as_original,
                      "auto": {"threshold": threshold, "dice": dice},
                      "counts": scores.counts.tolist()})


def run_pipeline(work, checkpoint=REFERENCE / "checkpoint", epochs=EPOCHS):
    """Runs every step in `work`.

    Returns:
        dict: exact (digests, batches, metrics of the committed probabilities),
        history (epoch -> loss, val_loss, dice) and probabilities (the
        checkpoint's on the test split, N x H x W).
    """
    work = Path(work)
    data = work / "data"
    exact = prepare(data)
    exact.update(batches(data, EPOCHS))
    history = train(data, work / "run", epochs)
    if checkpoint is None:  # writing the reference: this run is the checkpoint
        checkpoint = work / "run"
    probabilities = infer(checkpoint, data, work / "evaluation")
    committed = REFERENCE / "probabilities.npy"
    given = np.load(committed) if checkpoint != work / "run" else probabilities
    exact["metrics"] = given_metrics(given, data)
    return {"exact": exact, "history": history, "probabilities": probabilities,
            "fan_in": _fan_in(checkpoint)}


def _fan_in(checkpoint):
    """The checkpoint's summed fan-in, for the float32 bound (tests/support/float32.py)."""
    from attention_deeplab.inference import load_inference_model
    from tests.support.float32 import summed_fan_in

    return summed_fan_in(load_inference_model(run_dir=checkpoint))


def write_reference(result, folder=REFERENCE):
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "probabilities.npy", result["probabilities"].astype(np.float32))
    numbers = {"exact": result["exact"], "history": result["history"], "fan_in": result["fan_in"]}
    (folder / "numbers.json").write_text(json.dumps(numbers, indent=1, sort_keys=True) + "\n")


def read_reference(folder=REFERENCE):
    numbers = json.loads((folder / "numbers.json").read_text())
    return numbers, np.load(folder / "probabilities.npy")


def _commit_checkpoint(run, folder):
    """The reference run's best weights and config.json, without machine paths."""
    target = folder / "checkpoint"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    shutil.copy(run / "best.weights.h5", target / "best.weights.h5")
    config = json.loads((run / "config.json").read_text())
    config["data_dir"] = "synthetic (tests/end_to_end/pipeline.py)"
    (target / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-reference", action="store_true",
                        help=f"train a new checkpoint and overwrite the reference in {REFERENCE}")
    parser.add_argument("--out", help="write this run's numbers and probabilities here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as work:
        if args.write_reference:
            # The 2-epoch run's history, then the longer run that is the checkpoint.
            history = run_pipeline(Path(work) / "short", checkpoint=None)["history"]
            result = run_pipeline(Path(work) / "long", checkpoint=None, epochs=REFERENCE_EPOCHS)
            result["history"] = history
            _commit_checkpoint(Path(work) / "long" / "run", REFERENCE)
            write_reference(result)
        else:
            result = run_pipeline(work)
            if args.out:
                write_reference(result, Path(args.out))
    print(f"{len(result['exact'])} exact entries, {len(result['history'])} epochs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
