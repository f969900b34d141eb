"""Every `python <script>.py` command the README shows, parsed from README.md and run
as written (slow), from a folder laid out as the README assumes:

- `dataset_isic18/`: a synthetic ISIC 2018 folder with the challenge's training,
  validation and test folders (so `--official` finds them); `dataset_ph2/`: a synthetic
  PH2 folder; `photos/`: three of the images; `weight_isic18_deeplab_v3pa`: a file in the
  authors' format (Keras-2 HDF5) filled by the probe formula of the original checkpoint;
- fast settings appended to two scripts: Prepare `--size 64`, Train
  `--preset tiny --backbone-weights none --epochs 1 --batch-size 4 --quiet`;
- runs that the README compares against but trains with no command it shows
  (`output/isic2018_no_attention`, `output/att_s0`..., `output/other`) are copies of the
  run the README trains and evaluates first (`output/isic2018_official` for `other`); the
  fold runs the ensemble example predicts with are copies of `output/ph2`.
The cross-validation loop and its `Compare_Runs.py --folds` run through
scripts/cross_validation_ph2.py (tests/end_to_end/test_cross_validation_script.py).
Each script runs in this process (`main(argv)` from the folder), so the framework is
imported once; the README's `make` commands are what CI and the demo run.
"""
import importlib
import json
import re
import shlex
import shutil
import time

import pytest

from attention_deeplab.data.synthetic import generate
from tests.support.processes import REPO

FAST = {"Prepare_ISIC2018.py": ["--size", "64"], "Prepare_ph2.py": ["--size", "64"],
        "Prepare_Folder.py": ["--size", "64"],
        "Train_Skin_Lesion_Segmentation.py": ["--preset", "tiny", "--backbone-weights", "none",
                                              "--epochs", "1", "--batch-size", "4", "--quiet"]}
AUTHORS = "weight_isic18_deeplab_v3pa"
CROSS_VALIDATION = "Compare_Runs.py --folds"
STAND_INS = {"output/isic2018_no_attention": "output/isic2018",
             "output/other": "output/isic2018_official",
             **{f"output/{name}_s{seed}": "output/isic2018" for name in ("att", "plain")
                for seed in range(3)},
             **{f"output/ph2_fold{fold}": "output/ph2" for fold in range(5)}}

PHOTOS = 10  # Prepare_Folder.py's default split: 7 training, 1 validation, 2 test images
pytestmark = pytest.mark.slow


def readme_commands():
    """The README's `python` commands at code-block level, continuation lines joined,
    comments dropped, in the README's order (the loop's indented commands excluded)."""
    text = (REPO / "README.md").read_text().replace("\\\n", " ")
    lines = re.findall(r"^    (python \S+\.py.*)$", text, re.M)
    return [" ".join(line.split("  #")[0].split()) for line in lines]


def run_command(command, work, monkeypatch):
    """Runs one README command's script from `work` with its fast settings; returns its
    outputs' paths the command wrote (files new or rewritten)."""
    script, *args = shlex.split(command)[1:]
    for path, source in STAND_INS.items():
        if path in command and not (work / path).exists():
            shutil.copytree(work / source, work / path)
    before = stamps(work)
    monkeypatch.chdir(work)
    module = importlib.import_module(script.removesuffix(".py"))
    started = time.perf_counter()
    assert module.main(args + FAST.get(script, [])) == 0, command
    print(f"{time.perf_counter() - started:.1f} s: {command}")
    return {path for path, stamp in stamps(work).items() if before.get(path) != stamp}


def stamps(folder):
    """{relative path: modification time} of every file under `folder`."""
    return {str(path.relative_to(folder)): path.stat().st_mtime_ns
            for path in folder.rglob("*") if path.is_file()}


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    root = tmp_path_factory.mktemp("readme")
    generate("isic2018-official", 20, root / "dataset_isic18", seed=5, width_range=(60, 100))
    generate("ph2", 14, root / "dataset_ph2", seed=5, width_range=(60, 100))
    (root / "photos").mkdir()
    (root / "masks").mkdir()
    training = root / "dataset_isic18" / "ISIC2018_Task1-2_Training_Input"
    truth = root / "dataset_isic18" / "ISIC2018_Task1_Training_GroundTruth"
    for image in sorted(training.glob("*.jpg"))[:PHOTOS]:  # "your own images and masks"
        shutil.copy(image, root / "photos")
        shutil.copy(truth / f"{image.stem}_segmentation.png", root / "masks")
    return root


def test_readme_shows_the_commands_this_test_runs():
    commands = readme_commands()
    scripts = {shlex.split(command)[1] for command in commands}
    assert scripts == {"Prepare_ISIC2018.py", "Prepare_ph2.py", "Prepare_Folder.py",
                       "Train_Skin_Lesion_Segmentation.py", "Evaluate_Skin.py", "Predict_Skin.py",
                       "Compare_Runs.py", "models.py"}
    assert sum("--official" in c or "--native-resolution" in c for c in commands) == 3
    assert sum(c.startswith("python Compare_Runs.py") for c in commands) == 4


# What each command must leave behind (a pattern over the paths it created).
PRODUCTS = {"Prepare_ISIC2018.py": r"split\.json$", "Prepare_ph2.py": r"split\.json$",
            "Prepare_Folder.py": r"split\.json$",
            "Train_Skin_Lesion_Segmentation.py": r"best\.weights\.h5$",
            "Evaluate_Skin.py": r"metrics\.json$", "Predict_Skin.py": r"_mask\.png$",
            "Compare_Runs.py": r"comparison/table\.md$|stats\.json$", "models.py": r"\.keras$"}


def test_every_readme_command_runs_as_written(work, monkeypatch):
    commands = [c for c in readme_commands() if AUTHORS not in c and CROSS_VALIDATION not in c]
    assert len(commands) >= 12
    for command in commands:
        made = run_command(command, work, monkeypatch)
        pattern = PRODUCTS[shlex.split(command)[1]]
        assert any(re.search(pattern, path) for path in made), (command, sorted(made)[:10])
    assert (work / "dataset_isic18" / "official" / "split.json").is_file()
    native = json.loads((work / "output/isic2018_official/evaluation/test_native/metrics.json")
                        .read_text())
    assert 0.0 <= native["challenge_score"] <= 1.0
    stats = json.loads((work / "output" / "comparison" / "stats.json").read_text())
    assert stats["rows"]
    assert len(list((work / "predictions").glob("*_mask.png"))) == PHOTOS
    assert json.loads((work / "output/mine/evaluation/test_native/metrics.json").read_text())


def test_authors_checkpoint_commands(work, original_checkpoint_dir, monkeypatch):
    from tests.support.probe import write_probe_checkpoint

    write_probe_checkpoint(original_checkpoint_dir, work / AUTHORS)
    commands = [c for c in readme_commands() if AUTHORS in c]
    assert len(commands) == 3
    if not (work / "dataset_isic18" / "split.json").is_file():
        run_command("python Prepare_ISIC2018.py", work, monkeypatch)
    for command in commands:
        made = run_command(command, work, monkeypatch)
        assert any(re.search(PRODUCTS[shlex.split(command)[1]], path) for path in made), command
    assert (work / "isic18.keras").stat().st_size > 100_000_000  # 57 M float32 weights
