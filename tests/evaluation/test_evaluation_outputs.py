"""Evaluation end to end on arrays written here, with a small stand-in keras model."""
import csv
import json

import keras
import numpy as np
import pytest
from PIL import Image
from sklearn.metrics import f1_score, roc_auc_score

import Evaluate_Skin
from attention_deeplab.data.loader import normalize_images
from attention_deeplab import metrics
from attention_deeplab.evaluation import evaluator as evaluation
from attention_deeplab.model import model_options
from tests.support.models import dark_is_lesion_model, record_model_loads

SIZE = 16


def stand_in_model(bias=6.0):
    return dark_is_lesion_model(SIZE, bias)


def write_split(data_dir, split, count, seed, dataset="isic2018"):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:SIZE, :SIZE]
    images = rng.integers(110, 255, (count, SIZE, SIZE, 3)).astype(np.uint8)
    masks = np.zeros((count, SIZE, SIZE), np.uint8)
    for i in range(count):
        cy, cx, r = rng.integers(5, 11), rng.integers(5, 11), rng.integers(2, 5)
        lesion = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
        masks[i][lesion] = 255
        images[i][lesion] = rng.integers(20, 190, (int(lesion.sum()), 3))
    np.save(data_dir / f"data_{split}.npy", images)
    np.save(data_dir / f"mask_{split}.npy", masks)
    manifest_path = data_dir / "split.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {
        "dataset": dataset, "ids": {}, "sizes": {}}
    manifest["ids"][split] = [f"ISIC_{seed}{i:03d}" for i in range(count)]
    manifest_path.write_text(json.dumps(manifest))
    return images, masks


@pytest.fixture
def data_dir(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    write_split(folder, "val", 5, seed=1)
    write_split(folder, "test", 7, seed=2)
    return folder


@pytest.fixture
def run_dir(tmp_path, data_dir):
    folder = tmp_path / "run"
    folder.mkdir()
    config = {"dataset": "isic2018", "data_dir": str(data_dir)}
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def test_every_output_written_readable_and_consistent(run_dir, data_dir, capsys):
    report = evaluation.evaluate(run_dir=run_dir, model=stand_in_model(), save_probabilities=True)
    out = run_dir / "evaluation" / "test"
    ids = json.loads((data_dir / "split.json").read_text())["ids"]["test"]
    probabilities = np.load(out / "probabilities.npy")
    masks = np.load(data_dir / "mask_test.npy")
    assert probabilities.shape == (7, SIZE, SIZE)
    saved = json.loads((out / "metrics.json").read_text())
    assert saved == report
    truth, predicted = masks.ravel() > 127, probabilities.ravel() > 0.5
    assert saved["pooled"]["f1"] == pytest.approx(f1_score(truth, predicted), abs=1e-12)
    assert saved["pooled"]["auc"] == pytest.approx(roc_auc_score(truth, probabilities.ravel()))
    # The original's "Jaccard": scikit-learn's jaccard_similarity_score on flattened
    # binary labels, which is the share of pixels labelled right.
    assert saved["pooled"]["jaccard_as_in_paper"] == pytest.approx(
        np.mean(truth == predicted), abs=1e-12)
    assert saved["paper"] == {"f1": 0.912, "sensitivity": 0.885, "specificity": 0.988,
                              "accuracy": 0.964}
    with open(out / "per_image.csv") as stream:
        rows = list(csv.DictReader(stream))
    assert [row["id"] for row in rows] == ids
    for i, image_id in enumerate(ids):
        mask = np.asarray(Image.open(out / "masks" / f"{image_id}.png"))
        np.testing.assert_array_equal(mask, np.where(probabilities[i] > 0.5, 255, 0))
        assert int(rows[i]["tp"]) == int(np.sum((mask == 255) & (masks[i] > 127)))
        assert Image.open(out / "overlays" / f"{image_id}.png").size == (SIZE, SIZE)
    for name in ("ROC.png", "Precision_recall.png", "samples.png"):
        assert Image.open(out / name).size[0] > 100
    printed = capsys.readouterr().out
    assert "F1 (Dice)" in printed and "0.912" in printed and str(out) in printed


def test_threshold_auto_is_chosen_on_validation_and_applied(run_dir, data_dir):
    model = stand_in_model(bias=9.0)  # biased towards lesion: 0.5 is not the best threshold
    report = evaluation.evaluate(run_dir=run_dir, model=model, threshold="auto", tta=True)
    images, masks = np.load(data_dir / "data_val.npy"), np.load(data_dir / "mask_val.npy")
    # The model sees each image min-max normalised, as in training.
    probabilities = model.predict(normalize_images(images), verbose=0)[..., 0]
    dice = {t: metrics.pooled_scores(metrics.confusion_counts(
        probabilities > t, masks > 127))["f1"] for t in np.round(np.arange(1, 100) / 100, 2)}
    best = max(dice.values())
    selection = report["threshold_selection"]
    assert selection["val_dice"] == pytest.approx(best)
    assert selection["threshold"] == min(t for t, d in dice.items() if d == pytest.approx(best))
    assert selection["threshold"] != 0.5 and report["threshold"] == selection["threshold"]
    assert selection["val_dice"] > selection["val_dice_at_0.5"]
    out = run_dir / "evaluation" / "test_tta"  # TTA evaluations do not overwrite plain ones
    assert json.loads((out / "metrics.json").read_text())["tta"] is True


def test_no_paper_column_for_other_datasets(tmp_path, capsys):
    folder = tmp_path / "ph2"
    folder.mkdir()
    write_split(folder, "test", 3, seed=3, dataset="ph2")
    report = evaluation.evaluate(data_dir=folder, model=stand_in_model(), out=tmp_path / "out")
    assert report["paper"] is None and report["dataset"] == "ph2"
    printed = capsys.readouterr().out
    assert "0.912" not in printed and "paper" not in printed.splitlines()[1]


def test_missing_pieces_are_named(tmp_path, run_dir, data_dir, capsys):
    assert Evaluate_Skin.main(["--run-dir", str(tmp_path / "nowhere")]) == 1
    assert "Train_Skin_Lesion_Segmentation.py" in capsys.readouterr().err
    untrained = tmp_path / "untrained"
    untrained.mkdir()
    (untrained / "config.json").write_text(json.dumps({"model": {"preset": "tiny"}}))
    assert Evaluate_Skin.main(["--run-dir", str(untrained), "--data-dir", str(data_dir)]) == 1
    assert "best.weights.h5 not found (the run has no best weights yet: train it first)" in \
        capsys.readouterr().err
    with pytest.raises(ValueError, match="Prepare"):
        evaluation.evaluate(data_dir=tmp_path, model=stand_in_model())
    (tmp_path / "bad").mkdir()
    write_split(tmp_path / "bad", "test", 3, seed=4)
    manifest = json.loads((tmp_path / "bad" / "split.json").read_text())
    manifest["ids"]["test"].append("extra")
    (tmp_path / "bad" / "split.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="4 test ids but the arrays hold 3"):
        evaluation.evaluate(data_dir=tmp_path / "bad", model=stand_in_model())
    wrong_size = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(1, 1)])
    with pytest.raises(ValueError, match="model takes"):
        evaluation.evaluate(run_dir=run_dir, model=wrong_size)


def test_command_line_options():
    parser = Evaluate_Skin.build_parser()
    args = parser.parse_args(["--threshold", "auto", "--no-attention", "--tta", "--split", "val"])
    assert (args.threshold, args.attention, args.tta, args.split) == ("auto", False, True, "val")
    assert parser.parse_args([]).threshold == 0.5 and parser.parse_args([]).attention is None
    with pytest.raises(SystemExit):
        parser.parse_args(["--threshold", "1.5"])


def test_undefined_scores_are_null_in_json_and_na_in_the_table(data_dir, tmp_path, capsys):
    report = evaluation.evaluate(data_dir=data_dir, model=stand_in_model(bias=-20.0),
                                 out=tmp_path / "out")  # predicts no lesion anywhere
    assert report["pooled"]["precision"] is None and report["pooled"]["f1"] == 0.0
    saved = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert saved["pooled"]["precision"] is None
    assert any(line.startswith("  Precision") and line.endswith("n/a")
               for line in capsys.readouterr().out.splitlines())


def test_a_bare_weights_file_means_the_full_network_at_the_data_size(
        data_dir, tmp_path, monkeypatch):
    calls = record_model_loads(monkeypatch, SIZE)
    monkeypatch.chdir(tmp_path)
    checkpoint = tmp_path / "downloads" / "weight_isic18_deeplab_v3pa"  # the authors' name
    checkpoint.parent.mkdir()
    checkpoint.write_bytes(b"")
    assert Evaluate_Skin.main(["--weights", str(checkpoint), "--data-dir", str(data_dir)]) == 0
    assert calls == [[model_options(input_shape=(SIZE, SIZE, 3)), str(checkpoint)]]
    out = tmp_path / "output" / "isic2018" / "evaluation" / "weight_isic18_deeplab_v3pa_test"
    assert json.loads((out / "metrics.json").read_text())["weights"] == str(checkpoint)
    assert Evaluate_Skin.main(["--weights", str(checkpoint), "--data-dir", str(data_dir),
                               "--preset", "tiny", "--no-attention", "--output-stride", "8"]) == 0
    assert calls[1][0] == model_options(input_shape=(SIZE, SIZE, 3), preset="tiny",
                                        attention=False, output_stride=8)


def test_weights_with_a_run_dir_that_has_no_config_write_there(data_dir, tmp_path, monkeypatch):
    calls = record_model_loads(monkeypatch, SIZE)
    checkpoint = tmp_path / "weight_isic18_deeplab_v3pa"
    checkpoint.write_bytes(b"")
    run_dir = tmp_path / "authors_run"  # no config.json: only where the outputs go
    assert Evaluate_Skin.main(["--run-dir", str(run_dir), "--weights", str(checkpoint),
                               "--data-dir", str(data_dir)]) == 0
    assert calls == [[model_options(input_shape=(SIZE, SIZE, 3)), str(checkpoint)]]
    assert (run_dir / "evaluation" / "test" / "metrics.json").is_file()


def test_weights_of_a_run_take_its_options_when_run_dir_only_receives_outputs(
        data_dir, tmp_path, monkeypatch):
    calls = record_model_loads(monkeypatch, SIZE)
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps(
        {"model": {"preset": "tiny"}, "dataset": "isic2018", "data_dir": str(data_dir)}))
    (run / "best.weights.h5").write_bytes(b"")
    elsewhere = tmp_path / "elsewhere"
    assert Evaluate_Skin.main(["--run-dir", str(elsewhere),
                               "--weights", str(run / "best.weights.h5")]) == 0
    assert calls == [[{"preset": "tiny"}, str(run / "best.weights.h5")]]  # the run's options
    report = json.loads((elsewhere / "evaluation" / "test" / "metrics.json").read_text())
    assert report["run_dir"] == str(run) and report["data_dir"] == str(data_dir)
