"""Every file a script reads, damaged in the five usual ways, is a one-line error naming it.

One small world (synthetic raw sets in each Prepare layout, arrays prepared at 32x32,
a tiny run interrupted after its first of two epochs, a `.keras` model, an authors'
checkpoint, a PASCAL-VOC-like file, images to predict) is built once. Each case damages
one of its files in place, runs the script that reads it in process, checks the answer
and that no other file of the world changed, then puts the file back.
"""
import csv
import hashlib
import io
import os
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import Evaluate_Skin
import Predict_Skin
import Prepare_ISIC2017
import Prepare_ISIC2018
import Prepare_ph2
import Train_Skin_Lesion_Segmentation as Train
import models
from tests.support.keras2_files import model_as_keras2_layers, write_keras2_h5

pytestmark = pytest.mark.slow  # builds the world in about a minute on 2 cores

DAMAGES = ("empty", "one_byte", "half", "flipped", "other_type")
RAW_LAYOUTS = {"isic2018": Prepare_ISIC2018, "isic2017": Prepare_ISIC2017, "ph2": Prepare_ph2}


def _png_bytes():
    stream = io.BytesIO()
    Image.fromarray(np.full((8, 8, 3), 200, np.uint8)).save(stream, format="PNG")
    return stream.getvalue()


def damage(path, how):
    """Damages `path` in place in one of the `DAMAGES` ways."""
    data = path.read_bytes()
    if how == "empty":
        data = b""
    elif how == "one_byte":
        data = data[:1]
    elif how == "half":
        data = data[:len(data) // 2]
    elif how == "flipped":
        data = bytearray(data)
        data[len(data) // 2] ^= 0xFF
    elif path.suffix in (".json", ".csv"):  # a text file becomes an image, others text
        data = _png_bytes()
    else:
        data = b'{"this is": "a JSON file, not the file expected here"}\n'
    path.write_bytes(bytes(data))


def train_argv(world, run="run", *extra):
    return ["--data-dir", str(world / "data"), "--run-dir", str(world / run), "--epochs", "2",
            "--batch-size", "2", "--backbone-weights", "none", "--preset", "tiny",
            "--precise-bn", "off", "--quiet", *extra]


def _kill(*args, **kwargs):
    raise KeyboardInterrupt


def _pascal_like(model):
    # The Deeplabv3+ PASCAL VOC file: some layer names shared with the model, its own head.
    keep = {"entry_flow_conv1_1", "entry_flow_conv1_1_BN", "aspp0", "decoder_conv1_pointwise"}
    layers = [(n, w) for n, w in model_as_keras2_layers(model) if n in keep]
    return layers + [("logits_semantic", [("kernel", np.ones((1, 1, 8, 21), "float32")),
                                          ("bias", np.zeros(21, "float32"))])]


def _hashes(root):
    return {path: hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from attention_deeplab.data.prepare import prepare_dataset
    from attention_deeplab.data.synthetic import generate
    from attention_deeplab.inference import load_inference_model
    from attention_deeplab.model.weights import PASCAL_VOC_FILE
    from attention_deeplab.training import run_folder
    from attention_deeplab.training.run_folder import write_history

    root = tmp_path_factory.mktemp("world")
    for layout in RAW_LAYOUTS:
        generate(layout, 8, root / f"raw_{layout}", seed=0, width_range=(40, 56))
    prepare_dataset("isic2018", root / "raw_isic2018", root / "data", image_size=32,
                    split=(4, 2, 2), workers=1, progress=False, say=lambda *args: None)
    with pytest.MonkeyPatch.context() as patch:
        # Killed after the first epoch's files: its state, curves and history.csv.
        def write_then_kill(run_dir, history):
            write_history(run_dir, history)
            raise KeyboardInterrupt

        patch.setattr(run_folder, "write_history", write_then_kill)  # in the writer thread
        with pytest.raises(KeyboardInterrupt):
            Train.main(train_argv(root))
    model = load_inference_model(run_dir=root / "run")
    (root / "weights").mkdir()
    model.save(root / "weights" / "model.keras")
    write_keras2_h5(root / "weights" / "weight_isic18_deeplab_v3pa",
                    [(f"layer_{i}", w) for i, (_, w) in enumerate(model_as_keras2_layers(model))])
    write_keras2_h5(root / "weights" / PASCAL_VOC_FILE, _pascal_like(model))
    (root / "inputs").mkdir()
    image = Image.open(root / "raw_isic2018" / "ISIC2018_Task1-2_Training_Input" /
                       "ISIC_0000000.jpg")
    for suffix in ("jpg", "png", "bmp"):
        image.save(root / "inputs" / f"photo.{suffix}")
    return root


@pytest.fixture
def no_training(monkeypatch):
    """Training stops where its first epoch would start: what is tested is the reading."""
    def run_epochs(model, splits, config, state, run_dir, *args, **kwargs):
        return {**(state or {}), "epoch": config.epochs,
                "best": {"val_loss": 0.5, "epoch": 1}}

    monkeypatch.setattr("attention_deeplab.training.entry.run_epochs", run_epochs)


@dataclass(frozen=True)
class Reader:
    """One file kind and the command that reads it.

    Args:
        kind: str. Names the case.
        target: str. The file, relative to the world.
        script: module. Its `main(argv)` runs.
        argv: callable(world, tmp) -> list of str.
        payload: bool. A flipped byte may fall in unchecked pixel or weight values
            (files from outside, which record no digest): exit 0 is allowed for the flip.
        hint: str or None. Words the error must hold (what to do).
        repaired: bool. The command rewrites the file from the state (exit 0).
    """

    kind: str
    target: str
    script: object
    argv: object
    payload: bool = False
    hint: str = None
    repaired: bool = False


def _evaluate(world, tmp):
    return ["--run-dir", str(world / "run"), "--data-dir", str(world / "data"),
            "--out", str(tmp / "evaluation")]


def _evaluate_weights(name):
    def argv(world, tmp):
        return ["--weights", str(world / "weights" / name), "--preset", "tiny",
                "--data-dir", str(world / "data"), "--out", str(tmp / "evaluation")]
    return argv


def _predict(name):
    def argv(world, tmp):
        return ["--run-dir", str(world / "run"), "--input", str(world / "inputs" / name),
                "--out", str(tmp / "predictions")]
    return argv


def _prepare(layout):
    def argv(world, tmp):
        # Into a copy of good arrays, which a refusal must leave as they were.
        shutil.copytree(world / "data", tmp / "prepared")
        return ["--data-dir", str(world / f"raw_{layout}"), "--out", str(tmp / "prepared"),
                "--size", "32", "--split", "4,2,2", "--workers", "1", "--no-progress"]
    return argv


def _train_voc(world, tmp):
    from attention_deeplab.model.weights import PASCAL_VOC_FILE

    argv = train_argv(world, tmp / "new_run")
    argv[argv.index("--backbone-weights") + 1] = str(world / "weights" / PASCAL_VOC_FILE)
    return argv


def _same_training(world, tmp):
    return train_argv(world)


def _train_init(world, tmp):
    return train_argv(world, tmp / "fine_tuned", "--init-weights",
                      str(world / "run" / "best.weights.h5"))


def _convert(world, tmp):
    return ["--convert", str(world / "weights" / "weight_isic18_deeplab_v3pa"),
            str(tmp / "converted.keras"), "--preset", "tiny", "--input-size", "32", "32"]


def _raw_files(layout):
    if layout == "ph2":
        case = "raw_ph2/PH2 Dataset images/IMD001"
        return (f"{case}/IMD001_Dermoscopic_Image/IMD001.bmp",
                f"{case}/IMD001_lesion/IMD001_lesion.bmp")
    image_dir, mask_dir = {"isic2018": ("ISIC2018_Task1-2_Training_Input",
                                        "ISIC2018_Task1_Training_GroundTruth"),
                           "isic2017": ("ISIC-2017_Training_Data",
                                        "ISIC-2017_Training_Part1_GroundTruth")}[layout]
    return (f"raw_{layout}/{image_dir}/ISIC_0000002.jpg",
            f"raw_{layout}/{mask_dir}/ISIC_0000002_segmentation.png")


READERS = [
    # The files the project wrote record their sha256 (digests.py): a flip is refused.
    Reader("data_train.npy", "data/data_train.npy", Train, _same_training),
    Reader("mask_val.npy", "data/mask_val.npy", Train, _same_training),
    Reader("data_test.npy", "data/data_test.npy", Evaluate_Skin, _evaluate),
    Reader("mask_test.npy", "data/mask_test.npy", Evaluate_Skin, _evaluate),
    Reader("split.json", "data/split.json", Evaluate_Skin, _evaluate),
    Reader("split.json (train)", "data/split.json", Train, _same_training),
    Reader("config.json", "run/config.json", Evaluate_Skin, _evaluate),
    Reader("config.json (train)", "run/config.json", Train, _same_training,
           hint="--overwrite"),
    Reader("best.weights.h5", "run/best.weights.h5", Evaluate_Skin, _evaluate),
    Reader("best.weights.h5 (predict)", "run/best.weights.h5", Predict_Skin,
           _predict("photo.jpg")),
    Reader("best.weights.h5 (--init-weights)", "run/best.weights.h5", Train, _train_init),
    Reader("state.json", "run/state.json", Train, _same_training, hint="--overwrite"),
    Reader("state model.weights.h5", "run/state-0001/model.weights.h5", Train, _same_training,
           hint="--overwrite"),
    Reader("state optimizer.npz", "run/state-0001/optimizer.npz", Train, _same_training,
           hint="--overwrite"),
    Reader("history.csv", "run/history.csv", Train, _same_training, repaired=True),
    Reader(".keras", "weights/model.keras", Evaluate_Skin, _evaluate_weights("model.keras")),
    Reader("authors' checkpoint", "weights/weight_isic18_deeplab_v3pa", Evaluate_Skin,
           _evaluate_weights("weight_isic18_deeplab_v3pa"), payload=True),
    Reader("authors' checkpoint (convert)", "weights/weight_isic18_deeplab_v3pa", models,
           _convert, payload=True),
    Reader("PASCAL VOC", "weights/deeplabv3_xception_tf_dim_ordering_tf_kernels.h5", Train,
           _train_voc, payload=True),
    *[Reader(f"{layout} {part}", path, RAW_LAYOUTS[layout], _prepare(layout), payload=True)
      for layout in RAW_LAYOUTS for part, path in zip(("image", "mask"), _raw_files(layout))],
    *[Reader(f"Predict input .{suffix}", f"inputs/photo.{suffix}", Predict_Skin,
             _predict(f"photo.{suffix}"), payload=True) for suffix in ("jpg", "png", "bmp")],
]
CASES = [pytest.param(reader, how, id=f"{reader.kind}-{how}")
         for reader in READERS for how in DAMAGES]


def run_main(script, argv, capsys):
    """Runs a script's `main` in process: (exit status, stdout, stderr).

    An exception escaping `main` is the traceback a user would see.
    """
    try:
        status = script.main(argv)
    except SystemExit as exit_:
        status = exit_.code
    except Exception as error:  # noqa: BLE001 (any escape is the failure tested for)
        pytest.fail(f"traceback: {type(error).__name__}: {error}")
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize("reader, how", CASES)
def test_damaged_file_is_a_named_one_line_error(world, reader, how, tmp_path, capsys,
                                                no_training):
    target = world / reader.target
    before = _hashes(world)
    good = target.read_bytes()
    argv = reader.argv(world, tmp_path)
    guarded = {**before, **_hashes(tmp_path)}
    damage(target, how)
    try:
        status, out, err = run_main(reader.script, argv, capsys)
        assert "Traceback" not in out + err
        if reader.repaired:
            assert status == 0, err
            # Rewritten from the resume state: the same epochs and numbers (the state's
            # copy of a row leaves out the time the state itself took to write).
            assert _numbers(target.read_bytes()) == _numbers(good)
        elif status == 0:
            assert reader.payload and how == "flipped", f"accepted a damaged file: {out}"
        else:
            last = err.strip().splitlines()[-1]
            assert last.startswith(f"{Path(reader.script.__file__).name}: error: ") or \
                last.startswith("  failed: "), last
            assert f"{target.parent.name}/{target.name}" in last, last
            if reader.hint:
                assert reader.hint in last, last
            damaged = target.read_bytes()
            changed = [str(p) for p, digest in _hashes_of(guarded).items()
                       if digest != guarded[p] and not _same_file(p, target)]
            assert not changed, f"a refused command changed {changed}"
            assert target.read_bytes() == damaged
    finally:
        target.write_bytes(good)
    assert _hashes(world) == before


def _numbers(history_bytes):
    """history.csv's rows without their timing columns."""
    rows = csv.DictReader(io.StringIO(history_bytes.decode()))
    return [{k: v for k, v in row.items() if not k.startswith("seconds")} for row in rows]


def _same_file(path, target):
    """`path` is `target`, or a hard link to it (a state keeps its best weights so)."""
    return path == target or (path.is_file() and os.path.samefile(path, target))


def _hashes_of(reference):
    """The current hashes of the files in `reference` (None for a file now missing)."""
    return {path: (hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None)
            for path in reference}


@pytest.mark.parametrize("target", ["config.json", "state.json", "state-0001/model.weights.h5",
                                    "state-0001/optimizer.npz"])
def test_overwrite_starts_a_run_with_a_damaged_file_again(world, target, tmp_path, capsys,
                                                          no_training):
    run_dir = tmp_path / "run"
    shutil.copytree(world / "run", run_dir)
    damage(run_dir / target, "half")
    argv = train_argv(world, run_dir)
    status, _, err = run_main(Train, argv, capsys)
    assert status == 1 and "--overwrite" in err
    status, _, err = run_main(Train, [*argv, "--overwrite"], capsys)
    assert status == 0, err
    assert json.loads((run_dir / "config.json").read_text())["epochs"] == 2
    assert not (run_dir / "state.json").exists()  # the damaged state went with the run
