"""The challenge's own splits (--official) scored at each image's original size
(--native-resolution), against a direct computation on the original-size masks."""
import csv
import json
import shutil

import keras
import numpy as np
import pytest
from PIL import Image
from sklearn.metrics import roc_auc_score

import Evaluate_Skin
import Prepare_Folder
import Prepare_ISIC2018
from attention_deeplab import evaluation
from attention_deeplab.data.official import prepare_official
from attention_deeplab.data.synthetic import generate
from attention_deeplab.inference import predict_array

SIZE = 16
QUIET = {"progress": False, "say": lambda message: None, "workers": 1}


def stand_in_model():
    """Dark pixels are lesion: sigmoid(6 - 0.05 * mean channel) of the 0..255 input."""
    inputs = keras.Input((SIZE, SIZE, 3))
    layer = keras.layers.Conv2D(1, 1, activation="sigmoid")
    model = keras.Model(inputs, layer(inputs))
    layer.set_weights([np.full((1, 1, 3, 1), -0.05 / 3, np.float32), np.array([6], np.float32)])
    return model


@pytest.fixture(scope="module")
def official(tmp_path_factory):
    source = tmp_path_factory.mktemp("isic18_official")
    generate("isic2018-official", 16, source, seed=1, width_range=(40, 90))
    manifest = prepare_official("isic2018", source, image_size=SIZE, **QUIET)
    return source, manifest


def test_official_folders_prepared_with_their_original_sizes(official, tmp_path, capsys):
    source, manifest = official
    assert manifest["sizes"] == {"train": 9, "val": 3, "test": 4}
    assert manifest["official"] and (source / "official" / "data_test.npy").is_file()
    assert not (source / "data_test.npy").exists()  # the paper-split arrays stay apart
    for image_id in manifest["ids"]["val"]:
        image = source / "ISIC2018_Task1-2_Validation_Input" / f"{image_id}.jpg"
        assert manifest["original_sizes"][image_id] == list(Image.open(image).size[::-1])
        assert manifest["mask_files"][image_id] == (
            f"ISIC2018_Task1_Validation_GroundTruth/{image_id}_segmentation.png")
    assert len({tuple(size) for size in manifest["original_sizes"].values()}) > 5
    status = Prepare_ISIC2018.main(["--official", "--data-dir", str(source), "--split", "9,3,4",
                                    "--out", str(tmp_path / "x")])
    assert status == 2 and "--official takes the challenge's own split" in capsys.readouterr().err


def direct_scores(source, manifest, probabilities):
    """Counts and pixels at original size, computed here from the files themselves."""
    counts, labels, scores = [], [], []
    for i, image_id in enumerate(manifest["ids"]["test"]):
        height, width = manifest["original_sizes"][image_id]
        resized = np.asarray(Image.fromarray(probabilities[i]).resize((width, height),
                                                                      Image.BILINEAR))
        truth = np.asarray(Image.open(source / manifest["mask_files"][image_id])
                           .convert("L")) > 127.5
        predicted = resized > 0.5
        counts.append([np.sum(predicted & truth), np.sum(predicted & ~truth),
                       np.sum(~predicted & truth), np.sum(~predicted & ~truth)])
        labels.append(truth.ravel())
        scores.append(resized.ravel())
    return np.array(counts), np.concatenate(labels), np.concatenate(scores)


def test_native_scores_match_a_direct_computation(official, tmp_path):
    source, manifest = official
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"dataset": "isic2018",
                                                 "data_dir": str(source / "official")}))
    model = stand_in_model()
    report = evaluation.evaluate(run_dir=run, model=model, native_resolution=True)
    out = run / "evaluation" / "test_native"
    images = np.load(source / "official" / "data_test.npy")
    counts, labels, scores = direct_scores(source, manifest, predict_array(model, images))
    with open(out / "per_image.csv") as stream:
        rows = list(csv.DictReader(stream))
    assert [row["id"] for row in rows] == manifest["ids"]["test"]
    assert [[int(row[k]) for k in ("tp", "fp", "fn", "tn")] for row in rows] == counts.tolist()
    tp, fp, fn, _ = counts.sum(axis=0)
    assert report["pooled"]["f1"] == pytest.approx(2 * tp / (2 * tp + fp + fn), abs=1e-12)
    jaccard = counts[:, 0] / (counts[:, 0] + counts[:, 1] + counts[:, 2])
    assert report["challenge_score"] == pytest.approx(np.where(jaccard < 0.65, 0, jaccard).mean())
    assert report["native_resolution"] is True
    # Ranking scores from 2^16 probability levels: within rounding of the exact AUC.
    assert report["pooled"]["auc"] == pytest.approx(roc_auc_score(labels, scores), abs=1e-3)
    assert json.loads((out / "metrics.json").read_text()) == report
    for image_id in manifest["ids"]["test"]:
        mask = Image.open(out / "masks" / f"{image_id}.png")
        assert list(mask.size[::-1]) == manifest["original_sizes"][image_id]
    assert (out / "ROC.png").is_file() and (out / "Precision_recall.png").is_file()


def test_a_moved_dataset_folder_or_paper_split_data_is_a_clear_error(official, tmp_path,
                                                                     capsys):
    source = shutil.copytree(official[0], tmp_path / "first_place")
    prepare_official("isic2018", source, image_size=SIZE, **QUIET)
    moved = source.rename(tmp_path / "moved")
    with pytest.raises(FileNotFoundError, match=f"dataset folder {source} named in "
                       f"{moved / 'official' / 'split.json'} has moved"):
        evaluation.evaluate(data_dir=moved / "official", model=stand_in_model(),
                            native_resolution=True, out=tmp_path / "out")
    manifest = json.loads((moved / "official" / "split.json").read_text())
    (moved / "official" / "split.json").write_text(json.dumps(
        {"dataset": "isic2018", "ids": manifest["ids"]}))  # as a paper-split Prepare writes
    with pytest.raises(FileNotFoundError, match="records no original sizes: prepare the data "
                       "with Prepare_ISIC2018.py --official"):
        evaluation.evaluate(data_dir=moved / "official", model=stand_in_model(),
                            native_resolution=True, out=tmp_path / "out")
    assert Evaluate_Skin.main(["--data-dir", str(moved / "official"), "--native-resolution",
                               "--weights", str(tmp_path / "absent.h5")]) == 1
    assert "absent.h5 not found" in capsys.readouterr().err


def test_a_folder_of_your_own_images_scores_at_native_resolution(tmp_path):
    """Prepare_Folder.py records sizes, mask files and its mask rule: red-on-black masks
    (lesion by the brightest channel, not by grey level) are scored as they were stored."""
    images, masks = tmp_path / "images", tmp_path / "masks"
    images.mkdir()
    masks.mkdir()
    areas = {}
    for i, (height, width) in enumerate([(40, 50), (36, 48), (52, 44), (30, 30)] * 2):
        pixels = np.full((height, width, 3), 220, np.uint8)
        pixels[5:5 + 2 * i + 10, 4:30] = 40
        Image.fromarray(pixels).save(images / f"photo{i}.{'png' if i % 2 else 'jpg'}")
        red = np.zeros((height, width, 3), np.uint8)
        red[5:5 + 2 * i + 10, 4:30, 0] = 255
        Image.fromarray(red).save(masks / f"photo{i}_mask.png")
        areas[f"photo{i}"] = (2 * i + 10) * 26
    assert Prepare_Folder.main(["--images", str(images), "--masks", str(masks), "--size",
                                str(SIZE), "--split", "4,2,2", "--out", str(tmp_path / "data"),
                                "--no-progress", "--workers", "1"]) == 0
    report = evaluation.evaluate(data_dir=tmp_path / "data", model=stand_in_model(),
                                 native_resolution=True, out=tmp_path / "native")
    assert report["dataset"] == "folder" and report["native_resolution"] is True
    with open(tmp_path / "native" / "per_image.csv") as stream:
        rows = list(csv.DictReader(stream))
    assert {row["id"]: int(row["tp"]) + int(row["fn"]) for row in rows} == {
        image_id: areas[image_id] for image_id in (row["id"] for row in rows)}
    assert report["pooled"]["f1"] > 0.8  # the stand-in finds the dark lesions
