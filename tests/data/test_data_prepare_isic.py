"""Prepare_ISIC2018.py and Prepare_ISIC2017.py on small synthetic sets."""
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import Prepare_ISIC2017
import Prepare_ISIC2018
from attention_deeplab.data import prepare_dataset
from attention_deeplab.data.pairs import PrepareError
from attention_deeplab.data.splits import assign, split_sizes
from attention_deeplab.datasets import DATASETS

QUIET = {"progress": False, "say": lambda message: None}


def load_set(folder):
    arrays = {}
    for kind in ("data", "mask"):
        for split in ("train", "val", "test"):
            arrays[f"{kind}_{split}"] = np.load(folder / f"{kind}_{split}.npy")
    return arrays, json.loads((folder / "split.json").read_text())


def test_isic2018_shapes_dtypes_ids_and_manifest(synthetic_sets, tmp_path):
    source = synthetic_sets("isic2018")
    prepare_dataset("isic2018", source, tmp_path, image_size=(24, 32), workers=1, **QUIET)
    arrays, manifest = load_set(tmp_path)
    # 12 pairs scale the paper's 1815/259/520: round(8.40)=8, round(1.20)=1, rest 3.
    assert manifest["sizes"] == {"train": 8, "val": 1, "test": 3}
    assert manifest["ids"]["train"][:2] == ["ISIC_0000000", "ISIC_0000001"]
    assert manifest["ids"]["test"] == ["ISIC_0000009", "ISIC_0000010", "ISIC_0000011"]
    assert manifest["dataset"] == "isic2018" and manifest["image_size"] == [24, 32]
    assert manifest["source"] == str(source.resolve()) and manifest["seed"] == 0
    assert set(manifest["versions"]) >= {"numpy", "pillow", "python"}
    assert len(manifest["fingerprint"]) == 64
    assert arrays["data_train"].shape == (8, 24, 32, 3)
    assert arrays["mask_test"].shape == (3, 24, 32)
    assert all(a.dtype == np.uint8 for a in arrays.values())
    for split in ("train", "val", "test"):
        masks = arrays["mask_" + split]
        assert masks.max() == 255 and masks.min() == 0  # every case holds a lesion
        assert arrays["data_" + split].std() > 10  # images, not zeros


def test_results_do_not_depend_on_workers_or_run(synthetic_sets, tmp_path):
    source = synthetic_sets("isic2018")
    first = prepare_dataset("isic2018", source, tmp_path / "a", image_size=32, workers=1, **QUIET)
    second = prepare_dataset("isic2018", source, tmp_path / "b", image_size=32, workers=2, **QUIET)
    assert first["fingerprint"] == second["fingerprint"]
    for name in ("data_train", "mask_train", "data_test", "mask_val"):
        one = (tmp_path / "a" / f"{name}.npy").read_bytes()
        assert one == (tmp_path / "b" / f"{name}.npy").read_bytes()


def test_explicit_split_and_default_out_dir(isic18_copy):
    assert Prepare_ISIC2018.main([
        "--data-dir", str(isic18_copy), "--size", "16", "--split", "6,2,3",
        "--workers", "1", "--no-progress",
    ]) == 0
    arrays, manifest = load_set(isic18_copy)  # --out defaults to --data-dir
    assert manifest["sizes"] == {"train": 6, "val": 2, "test": 3}
    assert manifest["ids"]["test"][-1] == "ISIC_0000010"  # the 12th id is left out
    assert arrays["data_val"].shape == (2, 16, 16, 3)


def test_paper_split_used_at_full_size():
    assert split_sizes(2594, DATASETS["isic2018"].paper_split) == (1815, 259, 520)
    # ISIC 2017: all 2000 pairs, where the original sliced 1399/200/400 (README).
    said = []
    sizes = split_sizes(2000, DATASETS["isic2017"].paper_split, say=said.append)
    assert sizes == (1400, 200, 400) and not said  # the paper's split, not a scaled one
    ids = [f"ISIC_{i:07d}" for i in range(2000)]
    split = assign(ids, sizes)
    assert split["val"][0] == ids[1400] and split["test"][-1] == ids[1999]
    notes = []
    assert split_sizes(100, (1400, 200, 400), say=notes.append) == (70, 10, 20)
    assert "100 pairs instead of 2000" in notes[0]


def test_isic2017_ignores_superpixels(synthetic_sets, tmp_path):
    source = synthetic_sets("isic2017", count=8)
    assert len(list((source / "ISIC-2017_Training_Data").glob("*_superpixels.png"))) == 8
    assert Prepare_ISIC2017.main([
        "--data-dir", str(source), "--out", str(tmp_path), "--size", "20", "24",
        "--any-size", "--workers", "1", "--no-progress",
    ]) == 0
    arrays, manifest = load_set(tmp_path)
    assert manifest["dataset"] == "isic2017"
    assert sum(manifest["sizes"].values()) == 8
    assert all("superpixels" not in i for ids in manifest["ids"].values() for i in ids)
    assert arrays["data_train"].shape[1:] == (20, 24, 3)


def test_scripts_from_the_command_line(tmp_path, repo_root):
    data = tmp_path / "synthetic"
    run = {"cwd": repo_root, "capture_output": True, "text": True, "timeout": 120}
    made = subprocess.run([sys.executable, "-m", "attention_deeplab.data.synthetic",
                           "--layout", "isic2018", "--count", "6", "--out", str(data),
                           "--width", "40", "60"], **run)
    assert made.returncode == 0, made.stderr
    done = subprocess.run([sys.executable, "Prepare_ISIC2018.py", "--data-dir", str(data),
                           "--size", "16", "--workers", "2"], **run)
    assert done.returncode == 0, done.stderr
    assert "split scaled to 4/1/1" in done.stdout
    assert np.load(data / "mask_train.npy").shape == (4, 16, 16)
    failed = subprocess.run([sys.executable, "Prepare_ISIC2018.py", "--data-dir",
                             str(tmp_path / "absent")], **run)
    assert failed.returncode != 0 and "absent" in failed.stderr


@pytest.mark.parametrize("bad", [["--size", "0"], ["--size", "1", "2", "3"],
                                 ["--split", "5,5"], ["--split", "a,b,c"]])
def test_bad_arguments_fail_clearly(isic18_copy, capsys, bad):
    status = Prepare_ISIC2018.main(["--data-dir", str(isic18_copy), "--no-progress", *bad])
    assert status != 0
    message = capsys.readouterr().err
    assert bad[0] in message
    assert not list(isic18_copy.glob("*.npy"))


def test_exact_resize_is_recorded_and_changes_the_fingerprint(synthetic_sets, tmp_path):
    source = synthetic_sets("isic2018")
    fast = prepare_dataset("isic2018", source, tmp_path / "fast", image_size=32, workers=1,
                           **QUIET)
    assert Prepare_ISIC2018.main(["--data-dir", str(source), "--out", str(tmp_path / "exact"),
                                  "--size", "32", "--exact-resize", "--workers", "1",
                                  "--no-progress"]) == 0
    arrays, exact = load_set(tmp_path / "exact")
    assert fast["resize"] == "fast" and exact["resize"] == "exact"
    assert fast["fingerprint"] != exact["fingerprint"]
    first = sorted((source / "ISIC2018_Task1-2_Training_Input").glob("*.jpg"))[0]
    with Image.open(first) as image:
        plain = np.asarray(image.convert("RGB").resize((32, 32), Image.BILINEAR))
    assert np.array_equal(arrays["data_train"][0], plain)
    with pytest.raises(PrepareError, match="resize must be one of fast, exact"):
        prepare_dataset("isic2018", source, tmp_path / "bad", resize="draft", **QUIET)
