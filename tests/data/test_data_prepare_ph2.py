"""Prepare_ph2.py: both layouts, the seeded permutation, and the real PH2 sample."""
import json
import shutil

import numpy as np
import pytest

import Prepare_ph2
from attention_deeplab.data import prepare_dataset
from attention_deeplab.errors import PrepareError
from attention_deeplab.data.ph2 import find_pairs, layout_of
from attention_deeplab.data.splits import assign

QUIET = {"progress": False, "say": lambda message: None, "workers": 1}


def manifest_of(folder):
    return json.loads((folder / "split.json").read_text())


@pytest.mark.parametrize("layout, kind", [("ph2", "database"), ("ph2-flat", "flat")])
def test_both_layouts_give_the_same_ids_and_split(synthetic_sets, tmp_path, layout, kind):
    source = synthetic_sets(layout, count=10)
    assert layout_of(source) == kind
    manifest = prepare_dataset("ph2", source, tmp_path, image_size=16, **QUIET)
    # 10 pairs scale 80/20/100: round(4.0)=4, round(1.0)=1, test the other 5.
    assert manifest["sizes"] == {"train": 4, "val": 1, "test": 5}
    ids = [f"IMD{i:03d}" for i in range(1, 11)]
    assert manifest["ids"] == assign(ids, (4, 1, 5), seed=0)
    assert sorted(sum(manifest["ids"].values(), [])) == ids
    masks = np.load(tmp_path / "mask_train.npy")
    assert masks.dtype == np.uint8 and masks.max() == 255  # 1-, 8- and 24-bit masks alike


def test_layouts_agree_pixel_for_pixel(synthetic_sets, tmp_path):
    for layout in ("ph2", "ph2-flat"):
        prepare_dataset("ph2", synthetic_sets(layout, count=10), tmp_path / layout,
                        image_size=16, **QUIET)
    for name in ("data_test.npy", "mask_test.npy"):
        assert (tmp_path / "ph2" / name).read_bytes() == (tmp_path / "ph2-flat" / name).read_bytes()


def test_permutation_is_seeded(synthetic_sets, tmp_path):
    source = synthetic_sets("ph2", count=10)
    assert Prepare_ph2.main(["--data-dir", str(source), "--out", str(tmp_path / "a"),
                             "--size", "8", "--seed", "3", "--workers", "1",
                             "--no-progress"]) == 0
    again = prepare_dataset("ph2", source, tmp_path / "b", image_size=8, seed=3, **QUIET)
    other = prepare_dataset("ph2", source, tmp_path / "c", image_size=8, seed=4, **QUIET)
    assert manifest_of(tmp_path / "a")["ids"] == again["ids"]
    assert again["ids"] != other["ids"]
    assert manifest_of(tmp_path / "a")["seed"] == 3


def test_default_ph2_split_is_a_permutation_then_80_20_100():
    ids = [f"IMD{i:03d}" for i in range(200)]
    split = assign(ids, (80, 20, 100), seed=0)
    order = np.random.default_rng(0).permutation(200)
    assert split["train"] == [ids[i] for i in order[:80]]
    assert split["test"] == [ids[i] for i in order[100:]]


def test_database_layout_found_below_the_folder(synthetic_sets, tmp_path):
    shutil.copytree(synthetic_sets("ph2", count=10), tmp_path / "download" / "PH2Dataset")
    assert len(find_pairs(tmp_path, warn=lambda m: None)) == 10


def test_macos_debris_ignored_and_duplicates_refused(synthetic_sets, tmp_path):
    shutil.copytree(synthetic_sets("ph2", count=10), tmp_path / "PH2Dataset")
    debris = tmp_path / "__MACOSX" / "PH2Dataset" / "PH2 Dataset images" / "IMD001"
    (debris / "IMD001_Dermoscopic_Image").mkdir(parents=True)
    (debris / "IMD001_Dermoscopic_Image" / "IMD001.bmp").write_bytes(b"resource fork")
    assert len(find_pairs(tmp_path, warn=lambda m: None)) == 10
    shutil.copytree(synthetic_sets("ph2", count=10), tmp_path / "again")
    with pytest.raises(PrepareError, match="Two copies of PH2 case IMD001"):
        find_pairs(tmp_path)


def test_missing_lesion_mask_is_named(synthetic_sets, tmp_path):
    folder = tmp_path / "ph2"
    shutil.copytree(synthetic_sets("ph2-flat", count=10), folder)
    (folder / "masks" / "IMD004_lesion.bmp").unlink()
    with pytest.raises(PrepareError, match="image\\(s\\) without a mask: IMD004"):
        prepare_dataset("ph2", folder, **QUIET)


def test_real_ph2_sample(ph2_sample_dir, tmp_path):
    manifest = prepare_dataset("ph2", ph2_sample_dir, tmp_path, image_size=(48, 64),
                               workers=2, progress=False, say=lambda m: None)
    assert manifest["sizes"] == {"train": 8, "val": 2, "test": 10}
    assert all(i.startswith("IMD") for i in sum(manifest["ids"].values(), []))
    images = np.load(tmp_path / "data_test.npy")
    masks = np.load(tmp_path / "mask_test.npy")
    assert images.shape == (10, 48, 64, 3) and masks.shape == (10, 48, 64)
    lesion = masks > 127
    assert all(0 < inside.mean() < 1 for inside in lesion)
    # Masks sit on their own images: lesions are darker than the rest (bar a
    # lesion that fills the field, leaving only the dark corners outside).
    darker = [image[inside].mean() < image[~inside].mean()
              for image, inside in zip(images.mean(-1), lesion)]
    assert sum(darker) >= 8
