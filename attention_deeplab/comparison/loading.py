"""Reading evaluations back: a run or evaluation folder -> metrics and per-image scores."""
import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from attention_deeplab.data.writer import MANIFEST
from attention_deeplab.errors import ComparisonError
from attention_deeplab.locations import EVALUATION_DIR, METRICS_NAME, PER_IMAGE_NAME
from attention_deeplab.metrics import COUNT_NAMES, PER_IMAGE_SCORES
from attention_deeplab.run_config import CONFIG_NAME


@dataclass
class Evaluation:
    """One evaluation folder as ``Evaluate_Skin.py`` wrote it.

    Args:
        name: str. How the table names it (the argument as given).
        folder: Path. The evaluation folder (metrics.json, per_image.csv).
        metrics: dict. metrics.json.
        ids: list of str. Image ids in per_image.csv's order.
        counts: int64 array N x 4 (TP, FP, FN, TN).
        scores: dict score -> float array of N per-image values (NaN: undefined).
        fingerprint: str or None. The evaluated data's fingerprint, where known.
    """

    name: str
    folder: Path
    metrics: dict
    ids: list
    counts: np.ndarray
    scores: dict
    fingerprint: str = None


def evaluation_folder(path, split="test", tta=False):
    """The evaluation folder an argument means: itself, or a run's ``evaluation/<split>[_tta]``.

    Raises:
        ComparisonError: missing, not evaluated (the error gives the command), or neither kind.
    """
    path = Path(path)
    if (path / METRICS_NAME).is_file():
        return path
    if not path.is_dir():
        raise ComparisonError(f"{path} does not exist")
    if (path / CONFIG_NAME).is_file() or (path / EVALUATION_DIR).is_dir():
        name = split + ("_tta" if tta else "")
        folder = path / EVALUATION_DIR / name
        if (folder / METRICS_NAME).is_file():
            return folder
        command = f"python Evaluate_Skin.py --run-dir {path} --split {split}" + (
            " --tta" if tta else "")
        raise ComparisonError(f"{path} has no evaluation in {folder} (no metrics.json): "
                              f"run `{command}` first")
    raise ComparisonError(f"{path} is neither a run folder (config.json) nor an evaluation "
                          "folder (metrics.json)")


def _number(text):
    return float("nan") if text.strip().lower() in ("", "nan") else float(text)


def read_per_image(path):
    """per_image.csv -> (ids, counts N x 4, dict score -> float array)."""
    try:
        with open(path, newline="") as stream:
            rows = list(csv.DictReader(stream))
    except FileNotFoundError:
        raise ComparisonError(f"{path} not found: evaluate the run again with "
                              "Evaluate_Skin.py") from None
    needed = ("id", *COUNT_NAMES, "dice", "jaccard")
    if not rows or any(column not in rows[0] for column in needed):
        raise ComparisonError(f"{path} has no rows or lacks the columns {', '.join(needed)}")
    try:
        counts = np.array([[int(row[name]) for name in COUNT_NAMES] for row in rows], np.int64)
        scores = {name: np.array([_number(row[name]) for row in rows])
                  for name in PER_IMAGE_SCORES if name in rows[0]}
    except ValueError as error:
        raise ComparisonError(f"{path}: unreadable value ({error})") from None
    return [row["id"] for row in rows], counts, scores


def _fingerprint(folder, metrics):
    """The evaluated data's fingerprint: metrics.json's, else the data folder's split.json's,
    else the training run's config.json's; None when none says."""
    if metrics.get("data_fingerprint"):
        return metrics["data_fingerprint"]
    candidates = [(Path(metrics["data_dir"]) / MANIFEST, "fingerprint")] if metrics.get(
        "data_dir") else []
    candidates.append((folder.parent.parent / CONFIG_NAME, "data_fingerprint"))
    for path, key in candidates:
        try:
            value = json.loads(path.read_text()).get(key)
        except (OSError, ValueError):
            continue
        if value:
            return value
    return None


def load_evaluation(path, split="test", tta=False, name=None):
    """Reads the evaluation a run folder or an evaluation folder means.

    Args:
        path: str or Path. A run folder (its ``evaluation/<split>[_tta]/`` is read)
            or an evaluation folder.
        split: str. "test" or "val". Defaults to "test".
        tta: bool. Read the test-time-flip evaluation. Defaults to False.
        name: str or None. The name in the table; defaults to `path`.

    Returns:
        Evaluation.
    """
    folder = evaluation_folder(path, split, tta)
    try:
        metrics = json.loads((folder / METRICS_NAME).read_text())
    except ValueError as error:
        raise ComparisonError(f"{folder / METRICS_NAME} is not valid JSON ({error})") from None
    ids, counts, scores = read_per_image(folder / PER_IMAGE_NAME)
    return Evaluation(name or str(path).rstrip("/"), folder, metrics, ids, counts, scores,
                      _fingerprint(folder, metrics))
