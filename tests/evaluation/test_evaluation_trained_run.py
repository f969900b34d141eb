"""End to end: a tiny run trained here for one epoch, evaluated and applied to PH2 images.

One training (about a minute on 2 shared cores) serves every test of the module.
"""
import csv
import json

import numpy as np
import pytest
from PIL import Image

import Evaluate_Skin
import Predict_Skin

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    from attention_deeplab.data.prepare import prepare_dataset
    from attention_deeplab.data.synthetic import generate
    from attention_deeplab.training import train

    root = tmp_path_factory.mktemp("trained")
    generate("isic2018", 12, root / "raw", seed=0, width_range=(80, 120))
    prepare_dataset("isic2018", root / "raw", root / "data", image_size=64, split=(6, 3, 3),
                    workers=1, progress=False, say=lambda *args: None)
    train(root / "data", root / "run", epochs=1, batch_size=2, backbone_weights="none",
          preset="tiny", verbose=0)
    return root / "run", root / "data"


def test_evaluate_the_run_with_every_output(trained_run, capsys):
    run_dir, data_dir = trained_run
    status = Evaluate_Skin.main(["--run-dir", str(run_dir), "--threshold", "auto",
                                 "--save-probabilities"])
    assert status == 0, capsys.readouterr().err
    out = run_dir / "evaluation" / "test"
    report = json.loads((out / "metrics.json").read_text())
    assert report["dataset"] == "isic2018" and report["paper"]["f1"] == 0.912
    assert report["data_dir"] == str(data_dir) and report["n_images"] == 3
    assert report["threshold_selection"]["chosen_on"] == "val"
    assert report["threshold"] == report["threshold_selection"]["threshold"]
    probabilities = np.load(out / "probabilities.npy")
    masks = np.load(data_dir / "mask_test.npy")
    assert probabilities.shape == (3, 64, 64)
    predicted, truth = probabilities > report["threshold"], masks > 127
    tp = int((predicted & truth).sum())
    assert report["pooled"]["tp"] == tp
    assert report["pooled"]["f1"] == pytest.approx(2 * tp / (predicted.sum() + truth.sum()))
    ids = json.loads((data_dir / "split.json").read_text())["ids"]["test"]
    with open(out / "per_image.csv") as stream:
        assert [row["id"] for row in csv.DictReader(stream)] == ids
    for image_id in ids:
        assert Image.open(out / "masks" / f"{image_id}.png").size == (64, 64)
        assert Image.open(out / "overlays" / f"{image_id}.png").mode == "RGB"
    for name in ("ROC.png", "Precision_recall.png", "samples.png"):
        Image.open(out / name).verify()
    assert "F1 (Dice)" in capsys.readouterr().out


def test_weights_inside_the_run_and_tta_write_their_own_folder(trained_run):
    run_dir, data_dir = trained_run
    status = Evaluate_Skin.main(["--weights", str(run_dir / "best.weights.h5"), "--tta",
                                 "--data-dir", str(data_dir), "--split", "val"])
    assert status == 0
    report = json.loads((run_dir / "evaluation" / "val_tta" / "metrics.json").read_text())
    assert report["tta"] is True and report["split"] == "val" and report["n_images"] == 3


def test_predict_the_ph2_sample_at_its_own_resolution(trained_run, ph2_sample_dir, tmp_path):
    run_dir, _ = trained_run
    pattern = str(ph2_sample_dir / "**" / "*_Dermoscopic_Image" / "*.bmp")
    out = tmp_path / "out"
    status = Predict_Skin.main(["--run-dir", str(run_dir), "--input", pattern, "--out", str(out),
                                "--tta", "--keep-largest", "--fill-holes", "--batch-size", "4"])
    assert status == 0
    with open(out / "predictions.csv") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == 20
    for row in rows:
        width, height = Image.open(row["file"]).size
        mask = np.asarray(Image.open(out / row["mask"]))
        assert mask.shape == (height, width) == (int(row["height"]), int(row["width"]))
        assert int(row["lesion_pixels"]) == int(np.count_nonzero(mask == 255))
        assert Image.open(out / row["mask"].replace("_mask", "_overlay")).size == (width, height)
