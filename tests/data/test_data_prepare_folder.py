"""Prepare_Folder.py: any folder of images and masks, in any format, with any mask coding."""
import json
import shutil

import numpy as np
import pytest
from PIL import Image

import Prepare_Folder
import Prepare_ph2
from attention_deeplab.data.folder_prepare import prepare_folder
from attention_deeplab.errors import PrepareError

QUIET = {"progress": False, "say": lambda message: None, "workers": 1}
SIDE = 32  # the images' own size: the resize is the identity, so stored pixels are exact
FORMATS = ("jpg", "png", "bmp", "tif")


def lesion(i):
    """Case i's lesion: a rectangle whose size names the case."""
    truth = np.zeros((SIDE, SIDE), bool)
    truth[4:8 + i, 3:20] = True
    return truth


def write_case(images, masks, i, suffix="_mask", coding=255, mask_format="png"):
    pixels = np.full((SIDE, SIDE, 3), 10 * i, np.uint8)
    pixels[lesion(i)] = (200, 120, 90)
    Image.fromarray(pixels).save(images / f"case{i:02d}.{FORMATS[i % 4]}")
    mask = lesion(i).astype(np.uint8) * coding
    if mask_format == "rgb":  # red on black, as some tools draw masks
        mask, mask_format = np.stack([mask, 0 * mask, 0 * mask], axis=-1), "png"
    Image.fromarray(mask).save(masks / f"case{i:02d}{suffix}.{mask_format}")


def make_folder(root, count=8, **kwargs):
    images, masks = root / "images", root / "masks"
    images.mkdir(parents=True)
    masks.mkdir(parents=True)
    for i in range(count):
        write_case(images, masks, i, **kwargs)
    return images, masks


def stored(out, name):
    """id -> row of one of the written arrays, over the three splits."""
    manifest = json.loads((out / "split.json").read_text())
    return {image_id: array[row] for split in ("train", "val", "test")
            for array in [np.load(out / f"{name}_{split}.npy")]
            for row, image_id in enumerate(manifest["ids"][split])}


@pytest.mark.parametrize("suffix", ["_segmentation", "_lesion", "_mask", ""])
def test_mixed_formats_pair_by_stem_with_the_suffix_detected(tmp_path, suffix):
    images, masks = make_folder(tmp_path, suffix=suffix, mask_format="bmp")
    Image.fromarray(np.zeros((SIDE, SIDE), np.uint8)).save(masks / f"case01{suffix}.tif")
    (masks / f"case01{suffix}.bmp").unlink()  # masks in two formats too
    manifest = prepare_folder(images, masks, tmp_path / "out", image_size=SIDE, **QUIET)
    assert manifest["dataset"] == "folder"
    assert manifest["sizes"] == {"train": 6, "val": 1, "test": 1}  # 0.7/0.1/0.2 of 8
    masks_out = stored(tmp_path / "out", "mask")
    assert sorted(masks_out) == [f"case{i:02d}" for i in range(8)]
    for i in (0, 2, 3, 4):  # each stored mask is its own case's, as 0/255
        np.testing.assert_array_equal(masks_out[f"case{i:02d}"], lesion(i) * 255)
    assert not masks_out["case01"].any()
    images_out = stored(tmp_path / "out", "data")
    for i in (2, 3, 4, 5):  # bmp, tif, jpg, png: each image its own file's pixels
        own = Image.open(images / f"case{i:02d}.{FORMATS[i % 4]}").convert("RGB")
        np.testing.assert_array_equal(images_out[f"case{i:02d}"], np.asarray(own))


def test_an_unpaired_file_is_a_named_error_or_skipped_and_reported(tmp_path, capsys):
    images, masks = make_folder(tmp_path)
    Image.new("RGB", (SIDE, SIDE)).save(images / "lonely.png")
    argv = ["--images", str(images), "--masks", str(masks), "--size", str(SIDE), "--no-progress",
            "--out", str(tmp_path / "out"), "--workers", "1"]
    assert Prepare_Folder.main(argv) == 2
    err = capsys.readouterr().err
    assert "1 image(s) without a mask: lonely" in err and "--skip-unpaired" in err
    assert not (tmp_path / "out").exists()
    assert Prepare_Folder.main(argv + ["--skip-unpaired"]) == 0
    assert "Skipping unpaired files (--skip-unpaired): 1 image(s) without a mask: lonely" in (
        capsys.readouterr().out)
    kept = stored(tmp_path / "out", "mask")
    assert "lonely" not in kept and len(kept) == 8


def test_unreadable_or_mismatched_pairs_are_named(tmp_path):
    images, masks = make_folder(tmp_path)
    (masks / "case03_mask.png").write_text("not an image")
    Image.new("L", (SIDE + 1, SIDE)).save(masks / "case05_mask.png")
    with pytest.raises(PrepareError, match="Cannot read mask .*case03_mask.png"):
        prepare_folder(images, masks, tmp_path / "out", image_size=SIDE, **QUIET)
    Image.fromarray(lesion(3).astype(np.uint8) * 255).save(masks / "case03_mask.png")
    with pytest.raises(PrepareError, match=r"case05.png is 32x32 but its mask .*case05_mask.png "
                       r"is 33x32"):
        prepare_folder(images, masks, tmp_path / "out", image_size=SIDE, **QUIET)
    damaged = images / "case04.jpg"
    data = damaged.read_bytes()
    damaged.write_bytes(data[:data.index(b"\xff\xda") + 20])  # cut after its header (SOS)
    notes = []
    manifest = prepare_folder(images, masks, tmp_path / "out", image_size=SIDE, skip_unpaired=True,
                              **{**QUIET, "say": notes.append})
    assert sum(manifest["sizes"].values()) == 6 and "case05" not in str(manifest["ids"])
    assert "case04" not in str(manifest["ids"])
    assert any("Skipping 2 unusable pair(s)" in note and "case05_mask.png" in note
               and "case04.jpg" in note for note in notes)
    Image.new("L", (SIDE, SIDE)).save(masks / "case05_mask.png")
    with pytest.raises(PrepareError, match="Cannot read image .*case04.jpg"):
        prepare_folder(images, masks, tmp_path / "out", image_size=SIDE, **QUIET)


def test_an_ambiguous_suffix_needs_mask_suffix(tmp_path):
    images, masks = make_folder(tmp_path, count=4)
    (masks / "case00_mask.png").rename(masks / "case00.png")  # fits "" as well as "_mask"
    with pytest.raises(PrepareError, match=r"Ambiguous mask suffix, several fit: '_mask' \(3 "
                       r"masks\), 'none' \(1 masks\)\. Pass --mask-suffix"):
        prepare_folder(images, masks, tmp_path / "out", image_size=SIDE, **QUIET)
    with pytest.raises(PrepareError, match="image.s. without a mask: case00; 1 mask.s. without "
                       "an image: case00.png"):
        prepare_folder(images, masks, tmp_path / "out", image_size=SIDE, mask_suffix="_mask",
                       **QUIET)
    manifest = prepare_folder(images, masks, tmp_path / "out", image_size=SIDE, mask_suffix="_mask",
                              split="2,1,0", skip_unpaired=True, **QUIET)
    assert sorted(sum(manifest["ids"].values(), [])) == ["case01", "case02", "case03"]


@pytest.mark.parametrize("coding, mask_format", [(1, "png"), (1, "bmp"), (255, "rgb"),
                                                 (255, "jpg")])
def test_masks_coded_0_1_rgb_or_jpeg_store_as_the_0_255_ones(tmp_path, coding, mask_format):
    reference = make_folder(tmp_path / "ref", coding=255)
    prepare_folder(*reference, tmp_path / "ref_out", image_size=SIDE, **QUIET)
    other = make_folder(tmp_path / "other", coding=coding, mask_format=mask_format)
    prepare_folder(*other, tmp_path / "other_out", image_size=SIDE, **QUIET)
    expected, got = stored(tmp_path / "ref_out", "mask"), stored(tmp_path / "other_out", "mask")
    for image_id, mask in expected.items():
        assert set(np.unique(got[image_id])) <= {0, 255}
        np.testing.assert_array_equal(got[image_id], mask)


def test_mask_threshold_sets_the_rule(tmp_path):
    images, masks = make_folder(tmp_path, count=4)
    grey = np.zeros((SIDE, SIDE), np.uint8)
    grey[:, :10], grey[:, 10:20] = 100, 200
    Image.fromarray(grey).save(masks / "case00_mask.png")
    for threshold, columns in ((None, 10), (50, 20), (199, 10), (200, 0)):
        prepare_folder(images, masks, tmp_path / "out", image_size=SIDE, mask_threshold=threshold,
                       **QUIET)
        assert (stored(tmp_path / "out", "mask")["case00"] == 255).sum() == SIDE * columns


def test_split_proportions_counts_and_file(tmp_path):
    images, masks = make_folder(tmp_path, count=20)
    first, again, other = (prepare_folder(images, masks, tmp_path / "out", image_size=SIDE,
                                          seed=seed, split="0.6,0.15,0.25", **QUIET)["ids"]
                           for seed in (0, 0, 1))
    assert [len(first[name]) for name in ("train", "val", "test")] == [12, 3, 5]
    assert first == again and first != other  # seeded
    manifest = prepare_folder(images, masks, tmp_path / "out", image_size=SIDE, split="10,5,5",
                              **QUIET)
    assert manifest["sizes"] == {"train": 10, "val": 5, "test": 5}
    listed = {"train": ["case03", "case01"], "val": ["case02"], "test": ["case10"]}
    (tmp_path / "split.json").write_text(json.dumps(listed))
    manifest = prepare_folder(images, masks, tmp_path / "out", image_size=SIDE,
                              split_file=tmp_path / "split.json", **QUIET)
    assert manifest["ids"] == listed
    (tmp_path / "split.json").write_text(json.dumps({**listed, "test": ["case99", "case01"]}))
    with pytest.raises(PrepareError, match="ids without an image/mask pair: case99; ids listed "
                       "twice: case01"):
        prepare_folder(images, masks, tmp_path / "out", image_size=SIDE,
                       split_file=tmp_path / "split.json", **QUIET)
    with pytest.raises(PrepareError, match="three proportions summing to 1"):
        prepare_folder(images, masks, tmp_path / "out", image_size=SIDE, split="0.7,0.1,0.1",
                       **QUIET)


def test_folds_cover_every_id_once(tmp_path):
    images, masks = make_folder(tmp_path, count=10)
    tested = []
    for fold in range(4):
        manifest = prepare_folder(images, masks, tmp_path / f"fold{fold}", image_size=SIDE,
                                  folds=4, fold=fold, seed=3, **QUIET)
        parts = [manifest["ids"][name] for name in ("train", "val", "test")]
        assert sorted(sum(parts, [])) == [f"case{i:02d}" for i in range(10)]
        assert all(parts) and manifest["folds"] == 4 and manifest["fold"] == fold
        tested += manifest["ids"]["test"]
    assert sorted(tested) == [f"case{i:02d}" for i in range(10)]


def test_the_ph2_sample_laid_out_flat_matches_prepare_ph2(ph2_sample_dir, tmp_path):
    images, masks = tmp_path / "photos", tmp_path / "truth"
    images.mkdir()
    masks.mkdir()
    for path in ph2_sample_dir.rglob("*.bmp"):
        shutil.copy(path, (masks if path.stem.endswith("_lesion") else images) / path.name)
    count = len(list(images.iterdir()))
    split = f"{count - 4},2,2"
    assert Prepare_ph2.main(["--data-dir", str(ph2_sample_dir), "--out", str(tmp_path / "ph2"),
                             "--size", "64", "--split", split, "--no-progress"]) == 0
    assert Prepare_Folder.main(["--images", str(images), "--masks", str(masks), "--size", "64",
                                "--split", split, "--out", str(tmp_path / "mine"),
                                "--no-progress"]) == 0
    ph2 = json.loads((tmp_path / "ph2" / "split.json").read_text())
    mine = json.loads((tmp_path / "mine" / "split.json").read_text())
    assert mine["ids"] == ph2["ids"]  # "_lesion" detected, the same seeded permutation
    for name in ("data_train.npy", "mask_train.npy", "mask_test.npy"):
        assert (tmp_path / "ph2" / name).read_bytes() == (tmp_path / "mine" / name).read_bytes()
    some = mine["ids"]["test"][0]
    assert mine["mask_files"][some] == f"truth/{some}_lesion.bmp"
    assert mine["original_sizes"][some] == list(Image.open(images / f"{some}.bmp").size[::-1])
