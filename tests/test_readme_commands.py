"""Every command the README shows, run as written with these substitutions (slow):

- a synthetic folder in each dataset's layout for the real dataset (`--data-dir`),
  prepared at 64x64 (`--size 64`) into a temporary folder (`--out`);
- training: `--preset tiny --backbone-weights none --epochs 1 --batch-size 4` and a
  temporary `--run-dir` in place of `output/<dataset>/`;
- an authors' checkpoint: a file in their format (Keras-2 HDF5, no extension) filled
  by the probe formula of tests/fixtures/original_checkpoint.
The README's `make` commands are what CI and the demo run.
"""
import re

import pytest

from tests.support.processes import REPO
from tests.support.processes import run_python as run

TRAIN_SUBSTITUTES = ["--preset", "tiny", "--backbone-weights", "none", "--epochs", "1",
                     "--batch-size", "4", "--quiet"]

pytestmark = pytest.mark.slow


def readme_commands():
    text = (REPO / "README.md").read_text()
    return [" ".join(line.split()) for line in re.findall(r"^    (python .*)$", text, re.M)]


def test_readme_shows_the_commands_this_test_runs():
    shown = readme_commands()
    for expected in ("python Prepare_ISIC2018.py", "python Prepare_ph2.py",
                     "python Train_Skin_Lesion_Segmentation.py --dataset isic2018",
                     "python Train_Skin_Lesion_Segmentation.py --dataset ph2 \\",
                     "python Evaluate_Skin.py --dataset isic2018",
                     "python Evaluate_Skin.py --dataset ph2",
                     "python Predict_Skin.py --run-dir output/isic2018 --input photos/ "
                     "--out predictions/",
                     "python Evaluate_Skin.py --weights weight_isic18_deeplab_v3pa "
                     "--data-dir dataset_isic18",
                     "python Predict_Skin.py --weights weight_isic18_deeplab_v3pa "
                     "--input photos/ --out out/",
                     "python models.py --convert weight_isic18_deeplab_v3pa isic18.keras"):
        assert any(line.startswith(expected) for line in shown), expected


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    root = tmp_path_factory.mktemp("readme")
    for layout, folder in (("isic2018", "isic18_raw"), ("ph2", "ph2_raw")):
        run("-m", "attention_deeplab.data.synthetic", "--layout", layout, "--count", 14,
            "--out", root / folder, "--seed", 5)
    return root


def test_isic2018_then_ph2_fine_tuned_then_predict(work):
    isic, ph2 = work / "isic18", work / "ph2"
    run("Prepare_ISIC2018.py", "--data-dir", work / "isic18_raw", "--out", isic, "--size", 64)
    run("Train_Skin_Lesion_Segmentation.py", "--dataset", "isic2018", "--data-dir", isic,
        "--run-dir", work / "run_isic18", *TRAIN_SUBSTITUTES)
    run("Evaluate_Skin.py", "--dataset", "isic2018", "--data-dir", isic,
        "--run-dir", work / "run_isic18")
    assert (work / "run_isic18" / "evaluation" / "test" / "metrics.json").is_file()

    run("Prepare_ph2.py", "--data-dir", work / "ph2_raw", "--out", ph2, "--size", 64)
    run("Train_Skin_Lesion_Segmentation.py", "--dataset", "ph2", "--data-dir", ph2,
        "--run-dir", work / "run_ph2", *TRAIN_SUBSTITUTES,
        "--init-weights", work / "run_isic18" / "best.weights.h5")
    run("Evaluate_Skin.py", "--dataset", "ph2", "--data-dir", ph2, "--run-dir", work / "run_ph2")
    assert (work / "run_ph2" / "evaluation" / "test" / "metrics.json").is_file()

    photos = work / "isic18_raw" / "ISIC2018_Task1-2_Training_Input"
    run("Predict_Skin.py", "--run-dir", work / "run_isic18", "--input", photos,
        "--out", work / "predictions")
    assert len(list((work / "predictions").glob("*_mask.png"))) == 14


def test_authors_checkpoint_commands(work, original_checkpoint_dir):
    from tests.support.probe import write_probe_checkpoint

    authors = write_probe_checkpoint(original_checkpoint_dir, work / "weight_isic18_deeplab_v3pa")
    data = work / "isic18_authors"
    run("Prepare_ISIC2018.py", "--data-dir", work / "isic18_raw", "--out", data, "--size", 64,
        "--split", "8,2,4")
    run("Evaluate_Skin.py", "--weights", authors, "--data-dir", data, "--out", work / "ev")
    assert (work / "ev" / "metrics.json").is_file()
    photos = sorted((work / "isic18_raw" / "ISIC2018_Task1-2_Training_Input").glob("*.jpg"))[:2]
    run("Predict_Skin.py", "--weights", authors, "--input", *photos, "--out", work / "out")
    assert len(list((work / "out").glob("*_mask.png"))) == 2
    run("models.py", "--convert", authors, work / "isic18.keras")
    assert (work / "isic18.keras").stat().st_size > 100_000_000  # 57 M float32 weights
