"""The whole pipeline at a small fixed size, reduced to numbers and masks for comparison.

Runs, in one process and through the top-level scripts only (the interface a
refactoring must keep): the synthetic generator, Prepare_ISIC2018.py at 64x64,
2 epochs of the tiny preset from scratch, Evaluate_Skin.py (test split, and
--threshold auto on val) and Predict_Skin.py on three of the synthetic images.

Regenerate the committed reference (only for a change that alters numbers on
purpose; say why in the commit):

    KERAS_BACKEND=tensorflow .venv/bin/python -m tests.end_to_end.pipeline --write-reference
"""
import argparse
import csv
import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

REFERENCE = Path(__file__).resolve().parents[1] / "fixtures" / "end_to_end"
SEED = 3
SIZE = 64
HISTORY_KEYS = ("loss", "val_loss", "accuracy", "dice", "val_accuracy", "val_dice", "lr")


def _run(module_main, argv):
    status = module_main(argv)
    if status:
        raise RuntimeError(f"{argv} exited with {status}")


def _read_masks(folder, pattern):
    return {path.name: np.asarray(Image.open(path)) > 127 for path in sorted(folder.glob(pattern))}


def _flatten(prefix, value, into):
    """Every number of a nested dict, keyed by its path ("pooled.f1")."""
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), item, into)
    elif isinstance(value, bool) or value is None or isinstance(value, str):
        return
    elif isinstance(value, (int, float)):
        into[prefix] = float(value)
    return into


def run_pipeline(work):
    """Runs every step in `work`.

    Returns:
        (numbers, masks, probabilities): a dict of floats by name, a dict of
        boolean masks by file, and the test split's probabilities (N x H x W).
    """
    import Evaluate_Skin
    import Predict_Skin
    import Prepare_ISIC2018
    import Train_Skin_Lesion_Segmentation
    from attention_deeplab.data import synthetic

    work = Path(work)
    data, run = work / "data", work / "run"
    _run(synthetic.main, ["--layout", "isic2018", "--count", "40", "--out", str(data),
                          "--seed", str(SEED), "--width", "80", "160"])
    _run(Prepare_ISIC2018.main, ["--data-dir", str(data), "--size", str(SIZE),
                                 "--split", "24,8,8", "--no-progress", "--workers", "1"])
    _run(Train_Skin_Lesion_Segmentation.main, [
        "--data-dir", str(data), "--run-dir", str(run), "--preset", "tiny",
        "--backbone-weights", "none", "--epochs", "2", "--batch-size", "4", "--lr", "1e-3",
        "--seed", str(SEED), "--quiet"])
    _run(Evaluate_Skin.main, ["--run-dir", str(run), "--data-dir", str(data),
                              "--save-probabilities"])
    _run(Evaluate_Skin.main, ["--run-dir", str(run), "--data-dir", str(data),
                              "--threshold", "auto", "--out", str(work / "auto")])
    images = sorted((data / "ISIC2018_Task1-2_Training_Input").glob("*.jpg"))[:3]
    _run(Predict_Skin.main, ["--run-dir", str(run), "--out", str(work / "predicted"),
                             "--input", *map(str, images)])

    numbers = {}
    manifest = json.loads((data / "split.json").read_text())
    for split in ("train", "val", "test"):
        for kind in ("data", "mask"):
            array = np.load(data / f"{kind}_{split}.npy")
            numbers[f"arrays.{kind}_{split}.sum"] = float(array.sum(dtype=np.int64))
            numbers[f"arrays.{kind}_{split}.size"] = float(array.size)
        numbers.update({f"ids.{split}.{i}": float(int(name.split("_")[1]))
                        for i, name in enumerate(manifest["ids"][split])})
    with open(run / "history.csv") as stream:
        for row in csv.DictReader(stream):
            for key in HISTORY_KEYS:
                numbers[f"history.{row['epoch']}.{key}"] = float(row[key])
    for name, folder in (("test", run / "evaluation" / "test"), ("auto", work / "auto")):
        report = json.loads((folder / "metrics.json").read_text())
        picked = {key: report[key] for key in ("pooled", "per_image", "threshold", "n_images")}
        _flatten(f"evaluate_{name}", picked, numbers)
    with open(work / "predicted" / "predictions.csv") as stream:
        for row in csv.DictReader(stream):
            for key, value in row.items():
                if key not in ("file", "mask") and value != "":
                    numbers[f"predict.{Path(row['file']).stem}.{key}"] = float(value)
    masks = {f"evaluate/{k}": v for k, v in
             _read_masks(run / "evaluation" / "test" / "masks", "*.png").items()}
    masks.update({f"auto/{k}": v for k, v in _read_masks(work / "auto" / "masks", "*.png").items()})
    masks.update({f"predict/{k}": v for k, v in
                  _read_masks(work / "predicted", "*_mask.png").items()})
    probabilities = np.load(run / "evaluation" / "test" / "probabilities.npy")
    return numbers, masks, probabilities


def write_reference(numbers, masks, probabilities, folder=REFERENCE):
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "probabilities.npy", probabilities.astype(np.float32))
    (folder / "numbers.json").write_text(json.dumps(numbers, indent=1, sort_keys=True) + "\n")
    np.savez_compressed(folder / "masks.npz", **{k: np.packbits(v) for k, v in masks.items()},
                        **{f"shape:{k}": np.array(v.shape) for k, v in masks.items()})


def read_reference(folder=REFERENCE):
    numbers = json.loads((folder / "numbers.json").read_text())
    with np.load(folder / "masks.npz") as stored:
        masks = {k: np.unpackbits(stored[k])[:int(np.prod(stored[f"shape:{k}"]))]
                 .reshape(stored[f"shape:{k}"]).astype(bool)
                 for k in stored.files if not k.startswith("shape:")}
    return numbers, masks, np.load(folder / "probabilities.npy")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-reference", action="store_true",
                        help=f"overwrite the committed reference in {REFERENCE}")
    parser.add_argument("--out", help="write this run's numbers and masks here instead")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as work:
        numbers, masks, probabilities = run_pipeline(work)
    if args.write_reference or args.out:
        write_reference(numbers, masks, probabilities, REFERENCE if args.write_reference else Path(args.out))
    print(f"{len(numbers)} numbers, {len(masks)} masks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
