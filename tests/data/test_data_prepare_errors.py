"""Bad input: each error names what is wrong, exits non-zero, and writes nothing."""
import pytest

import Prepare_ISIC2018
import Prepare_ph2
from attention_deeplab.data import prepare_dataset
from attention_deeplab.errors import PrepareError

QUIET = {"progress": False, "say": lambda message: None, "workers": 1}


def run_script(module, folder, capsys, *extra):
    status = module.main(["--data-dir", str(folder), "--size", "16", "--no-progress",
                          "--workers", "1", *extra])
    return status, capsys.readouterr().err


def no_output(folder):
    written = [p.name for p in folder.iterdir() if p.suffix == ".npy" or "tmp" in p.name
               or p.name == "split.json"]
    return not written


def test_missing_folder_names_it_and_the_layout(tmp_path, capsys):
    status, err = run_script(Prepare_ISIC2018, tmp_path / "nowhere", capsys)
    assert status != 0
    assert "nowhere" in err and "ISIC2018_Task1-2_Training_Input" in err
    assert err.startswith("Prepare_ISIC2018.py: error: ")  # argparse's form, as every script


def test_unrecognised_layout_shows_expected_and_found(tmp_path, capsys):
    (tmp_path / "images").mkdir()
    (tmp_path / "notes.txt").write_text("x")
    status, err = run_script(Prepare_ph2, tmp_path, capsys)
    assert status != 0
    assert "Unrecognised layout" in err and "IMD002_Dermoscopic_Image" in err
    assert "images/" in err and "notes.txt" in err  # what was found
    assert no_output(tmp_path)


def test_images_without_masks_are_named(isic18_copy, capsys):
    masks = isic18_copy / "ISIC2018_Task1_Training_GroundTruth"
    (masks / "ISIC_0000003_segmentation.png").unlink()
    (masks / "ISIC_0000007_segmentation.png").unlink()
    status, err = run_script(Prepare_ISIC2018, isic18_copy, capsys)
    assert status != 0
    assert "2 image(s) without a mask: ISIC_0000003, ISIC_0000007" in err
    assert "--skip-unpaired" in err and no_output(isic18_copy)
    assert run_script(Prepare_ISIC2018, isic18_copy, capsys, "--skip-unpaired")[0] == 0
    assert (isic18_copy / "split.json").is_file()


def test_masks_without_images_are_named(isic18_copy):
    (isic18_copy / "ISIC2018_Task1-2_Training_Input" / "ISIC_0000005.jpg").unlink()
    with pytest.raises(PrepareError, match="1 mask\\(s\\) without an image: ISIC_0000005"):
        prepare_dataset("isic2018", isic18_copy, **QUIET)
    manifest = prepare_dataset("isic2018", isic18_copy, image_size=16, skip_unpaired=True,
                               **QUIET)
    assert sum(manifest["sizes"].values()) == 11
    assert "ISIC_0000005" not in sum(manifest["ids"].values(), [])


@pytest.mark.parametrize("workers", [1, 2])
def test_truncated_image_is_named(isic18_copy, workers):
    image = isic18_copy / "ISIC2018_Task1-2_Training_Input" / "ISIC_0000004.jpg"
    image.write_bytes(image.read_bytes()[:300])
    with pytest.raises(PrepareError, match="ISIC_0000004.jpg"):
        prepare_dataset("isic2018", isic18_copy, image_size=16, progress=False,
                        say=lambda m: None, workers=workers)
    assert no_output(isic18_copy)


def test_unreadable_mask_is_named(isic18_copy, tmp_path):
    mask = isic18_copy / "ISIC2018_Task1_Training_GroundTruth" / "ISIC_0000002_segmentation.png"
    mask.write_bytes(b"not a png")
    with pytest.raises(PrepareError, match="Cannot read mask .*ISIC_0000002_segmentation.png"):
        prepare_dataset("isic2018", isic18_copy, tmp_path / "new" / "out", image_size=16,
                        **QUIET)
    assert no_output(isic18_copy)
    assert not (tmp_path / "new" / "out").exists()  # nor an empty output folder


def test_too_few_pairs(synthetic_sets, tmp_path):
    source = synthetic_sets("isic2018", count=3)
    with pytest.raises(PrepareError, match="Too few pairs \\(3\\)"):
        prepare_dataset("isic2018", source, tmp_path, image_size=16, **QUIET)
    with pytest.raises(PrepareError, match="needs 4 pairs but the folder holds only 3"):
        prepare_dataset("isic2018", source, tmp_path, image_size=16, split="2,1,1", **QUIET)
    assert no_output(tmp_path)


def test_empty_layout_folders(tmp_path):
    (tmp_path / "ISIC2018_Task1-2_Training_Input").mkdir()
    (tmp_path / "ISIC2018_Task1_Training_GroundTruth").mkdir()
    with pytest.raises(PrepareError, match="No ISIC_\\*.jpg images"):
        prepare_dataset("isic2018", tmp_path, **QUIET)


def test_an_image_pillow_refuses_as_too_large_is_named(isic18_copy, monkeypatch):
    from PIL import Image

    # Over twice the limit, Pillow raises DecompressionBombError (not an OSError).
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(PrepareError, match=r"Cannot read (image|mask) .*ISIC_\d+"):
        prepare_dataset("isic2018", isic18_copy, image_size=16, **QUIET)
    assert no_output(isic18_copy)
