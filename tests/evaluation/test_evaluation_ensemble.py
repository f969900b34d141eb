"""Ensembles of runs (`--run-dir A --run-dir B`): the mean of the members' probabilities,
through Evaluate_Skin.py, Predict_Skin.py and Compare_Runs.py; mismatched or leaking
members refused. Two tiny untrained runs, the second with perturbed weights, built once."""
import csv
import hashlib
import json
import shutil

import numpy as np
import pytest
from PIL import Image

import Compare_Runs
import Evaluate_Skin
import Predict_Skin

SIZE = 64
pytestmark = pytest.mark.slow  # builds the tiny network a few times (about a minute)


def write_run(folder, options, data_dir, weights_of):
    """A run folder as training writes it: config.json and best.weights.h5."""
    from attention_deeplab.run_config import RunConfig, write_config

    folder.mkdir(parents=True)
    weights_of.save_weights(folder / "best.weights.h5")
    write_config(folder, RunConfig(model=options, dataset="isic2018", data_dir=str(data_dir)))
    return folder


def add_ids(data_dir, prefix, counts):
    manifest = json.loads((data_dir / "split.json").read_text())
    manifest["ids"] = {split: [f"{prefix}{split}_{i}" for i in range(count)]
                       for split, count in counts.items()}
    (data_dir / "split.json").write_text(json.dumps(manifest))


@pytest.fixture(scope="module")
def members(tmp_path_factory):
    """(run A, run B, data): two runs of one tiny network, B's weights perturbed."""
    from attention_deeplab.data.disc_arrays import write_disc_arrays
    from attention_deeplab.model import build_from_options, model_options

    root = tmp_path_factory.mktemp("ensemble")
    counts = {"train": 2, "val": 2, "test": 3}
    data = write_disc_arrays(root / "data", counts, size=SIZE, seed=3)
    add_ids(data, "case_", counts)
    options = model_options(input_shape=(SIZE, SIZE, 3), preset="tiny")
    model = build_from_options(options)
    run_a = write_run(root / "run_a", options, data, model)
    rng = np.random.default_rng(0)
    for variable in model.weights:  # an untrained network says ~0.5: shift its biases too
        value = np.asarray(variable) * (1 + 0.3 * rng.standard_normal(variable.shape))
        shift = 0.5 * rng.standard_normal(variable.shape) if "bias" in variable.path else 0
        variable.assign((value + shift).astype(variable.dtype))
    run_b = write_run(root / "run_b", options, data, model)
    return run_a, run_b, data


@pytest.fixture(scope="module")
def evaluated(members):
    """Each member's TTA evaluation with probabilities, and the ensemble's."""
    run_a, run_b, _ = members
    for run in (run_a, run_b):
        assert Evaluate_Skin.main(["--run-dir", str(run), "--tta", "--save-probabilities"]) == 0
    assert Evaluate_Skin.main(["--run-dir", str(run_a), "--run-dir", str(run_b), "--tta",
                               "--save-probabilities"]) == 0
    return [run / "evaluation" / "test_tta" for run in (run_a, run_b)], \
        run_a / "evaluation" / "test_tta_ensemble"


def test_the_ensemble_is_the_mean_of_the_members_after_their_own_flips(members, evaluated):
    (folder_a, folder_b), folder = evaluated
    first, second = (np.load(f / "probabilities.npy") for f in (folder_a, folder_b))
    assert np.abs(first - second).max() > 1e-3  # the members differ, so the mean is no member
    ensemble = np.load(folder / "probabilities.npy")
    assert ensemble.shape == (3, SIZE, SIZE) and ensemble.dtype == np.float32
    np.testing.assert_allclose(ensemble, (first + second) / 2, rtol=0, atol=1e-6)
    report = json.loads((folder / "metrics.json").read_text())
    assert report["tta"] is True and report["run_dir"] is None and report["weights"] is None
    recorded = report["ensemble"]["members"]
    assert [m["run_dir"] for m in recorded] == [str(run) for run in members[:2]]
    for member, run in zip(recorded, members[:2]):
        weights = run / "best.weights.h5"
        assert member["weights"] == str(weights)
        assert member["weights_sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()


def test_compare_reads_an_ensemble_evaluation_like_any_other(evaluated, tmp_path):
    (folder_a, _), folder = evaluated
    out = tmp_path / "comparison"
    assert Compare_Runs.main([str(folder_a), str(folder), "--out", str(out)]) == 0
    with open(out / "table.csv") as stream:
        text = stream.read()
    assert str(folder) in text and str(folder_a) in text


def retarget(run, folder, **config_changes):
    """A copy of `run` whose config.json has `config_changes`."""
    shutil.copytree(run, folder, ignore=shutil.ignore_patterns("evaluation"))
    config = json.loads((folder / "config.json").read_text())
    for key, value in config_changes.items():
        config[key] = value
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def test_a_member_of_another_input_size_is_refused_by_name(members, tmp_path, capsys):
    run_a, run_b, _ = members
    config = json.loads((run_b / "config.json").read_text())
    small = retarget(run_b, tmp_path / "small",
                     model={**config["model"], "input_shape": [32, 32, 3]})
    argv = ["--run-dir", str(run_a), "--run-dir", str(small)]
    assert Evaluate_Skin.main(argv + ["--out", str(tmp_path / "eval")]) == 1
    error = capsys.readouterr().err
    assert f"member {small} takes 32x32" in error and f"{run_a} takes {SIZE}x{SIZE}" in error
    assert not (tmp_path / "eval").exists()
    Image.fromarray(np.full((20, 30, 3), 90, np.uint8)).save(tmp_path / "photo.png")
    assert Predict_Skin.main(argv + ["--input", str(tmp_path / "photo.png"),
                                     "--out", str(tmp_path / "pred")]) == 1
    assert f"member {small} takes 32x32" in capsys.readouterr().err
    # --weights names one model's file: an ensemble takes each run's own best weights.
    assert Evaluate_Skin.main(["--run-dir", str(run_a), "--run-dir", str(run_b), "--weights",
                               str(run_a / "best.weights.h5")]) == 1
    assert "--weights takes one model's file" in capsys.readouterr().err


def test_an_ensemble_is_not_scored_on_images_a_member_trained_on(members, tmp_path, capsys):
    from attention_deeplab.data.disc_arrays import write_disc_arrays

    run_a, run_b, data = members
    # Another fold: its training split holds the evaluated data's test images.
    other = write_disc_arrays(tmp_path / "fold1", {"train": 3, "val": 2, "test": 2}, SIZE)
    manifest = json.loads((other / "split.json").read_text())
    manifest["ids"] = {"train": ["case_test_2", "x0", "x1"], "val": ["x2", "x3"],
                       "test": ["case_train_0", "case_train_1"]}
    (other / "split.json").write_text(json.dumps(manifest))
    fold = retarget(run_b, tmp_path / "fold1_run", data_dir=str(other))
    assert Evaluate_Skin.main(["--run-dir", str(run_a), "--run-dir", str(fold),
                               "--out", str(tmp_path / "eval")]) == 1
    error = capsys.readouterr().err
    assert f"member {fold} saw 1 of the test images (e.g. case_test_2)" in error


def test_predict_averages_the_members_on_new_images(members, tmp_path):
    run_a, run_b, _ = members
    rng = np.random.default_rng(1)
    photos = tmp_path / "photos"
    photos.mkdir()
    for name, shape in (("a.png", (90, 70, 3)), ("b.jpg", (40, 64, 3))):
        Image.fromarray(rng.integers(0, 255, shape, dtype=np.uint8)).save(photos / name)
    means = {}
    for key, runs in (("a", [run_a]), ("b", [run_b]), ("ab", [run_a, run_b])):
        out = tmp_path / key
        argv = [arg for run in runs for arg in ("--run-dir", str(run))]
        # Threshold 0: every pixel is lesion, so mean_probability is the whole map's mean.
        assert Predict_Skin.main(argv + ["--input", str(photos), "--out", str(out), "--tta",
                                         "--threshold", "0"]) == 0
        with open(out / "predictions.csv") as stream:
            means[key] = [float(row["mean_probability"]) for row in csv.DictReader(stream)]
    assert max(abs(a - b) for a, b in zip(means["a"], means["b"])) > 1e-3
    np.testing.assert_allclose(means["ab"], np.add(means["a"], means["b"]) / 2, atol=2e-6)
