"""A run folder end to end with the stand-in model: files, finish, continue, refuse, errors."""
import csv
import json

import numpy as np
import pytest

import Train_Skin_Lesion_Segmentation as script

BASE = ["--preset", "tiny", "--backbone-weights", "none", "--batch-size", "4",
        "--lr", "1e-2", "--quiet"]


def history(run_dir):
    with open(run_dir / "history.csv") as stream:
        return list(csv.DictReader(stream))


def config_json(run_dir):
    """config.json as a user reads it."""
    return json.loads((run_dir / "config.json").read_text())


# best.weights.h5 holds the model's weights alone; the trained model's optimizer is built.
@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
def test_run_folder_contents(data_dir, tmp_path, standin):
    run_dir = tmp_path / "run"
    argv = ["--data-dir", str(data_dir), "--run-dir", str(run_dir), "--epochs", "3", *BASE]
    assert script.main(argv) == 0
    config = config_json(run_dir)
    assert config["model"] == {"input_shape": [32, 32, 3], "preset": "tiny",
                               "attention": True, "output_stride": 16}
    assert config["data_fingerprint"] == "discs-train12-val4-32-0"
    assert config["data_resize"] is None  # a split.json written before it recorded the resize
    assert config["batch_size"] == 4 and config["lr"] == 1e-2 and config["epochs"] == 3
    assert config["precise_bn"] is True  # auto, from scratch
    assert config["backbone_weights"] is None and config["versions"]["keras"]
    rows = history(run_dir)
    assert [row["epoch"] for row in rows] == ["1", "2", "3"]
    assert {"loss", "val_loss", "accuracy", "dice", "lr"} <= set(rows[0])
    assert float(rows[-1]["val_loss"]) < float(rows[0]["val_loss"])
    assert (run_dir / "training_curves.png").stat().st_size > 1000
    best = min(rows, key=lambda row: float(row["val_loss"]))
    state = json.loads((run_dir / "state.json").read_text())
    assert state["best"]["epoch"] == int(best["epoch"])
    standin[0].load_weights(run_dir / "best.weights.h5")


@pytest.mark.slow
def test_finished_run_says_so_and_more_epochs_continue(data_dir, tmp_path, standin, capsys):
    run_dir = tmp_path / "run"
    argv = ["--data-dir", str(data_dir), "--run-dir", str(run_dir), *BASE]
    assert script.main(argv + ["--epochs", "2"]) == 0
    assert script.main(argv + ["--epochs", "2"]) == 0
    assert "finished its 2 epochs" in capsys.readouterr().out
    assert len(standin) == 1  # nothing was built or trained the second time
    assert script.main(argv + ["--epochs", "3"]) == 0
    assert [row["epoch"] for row in history(run_dir)] == ["1", "2", "3"]
    assert config_json(run_dir)["epochs"] == 3


@pytest.mark.slow
def test_different_run_refused_unless_overwrite(data_dir, tmp_path, standin, capsys):
    run_dir = tmp_path / "run"
    argv = ["--data-dir", str(data_dir), "--run-dir", str(run_dir), "--epochs", "1", *BASE]
    assert script.main(argv) == 0
    assert script.main(argv + ["--batch-size", "2"]) == 1
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1
    assert "--batch-size: 4 there, 2 now" in error and "--overwrite" in error
    assert script.main(argv + ["--batch-size", "2", "--overwrite"]) == 0
    assert config_json(run_dir)["batch_size"] == 2
    assert len(history(run_dir)) == 1


def test_errors_are_one_line(data_dir, tmp_path, standin, capsys):
    run = ["--run-dir", str(tmp_path / "run"), "--epochs", "1", *BASE]
    cases = [
        (["--data-dir", str(tmp_path / "missing"), "--dataset", "ph2"], "Prepare_ph2.py"),
        (["--data-dir", str(data_dir), "--batch-size", "13"], "larger than the training set"),
        (["--data-dir", str(data_dir), "--init-weights", str(tmp_path / "no.h5")], "no such file"),
    ]
    for extra, message in cases:
        assert script.main(extra + run[:-len(BASE)] + BASE + extra[-2:]) == 1
        error = capsys.readouterr().err.strip()
        assert message in error and len(error.splitlines()) == 1, error
        assert error.startswith("Train_Skin_Lesion_Segmentation.py: error: ")
    np.save(data_dir / "mask_val.npy", np.zeros((3, 32, 32), np.uint8))
    assert script.main(["--data-dir", str(data_dir)] + run) == 1
    assert "4 images but 3 masks" in capsys.readouterr().err


def test_nan_loss_stops_with_message(data_dir, tmp_path, standin, monkeypatch, capsys):
    from attention_deeplab.data import loader

    original = loader.ArraySequence.__getitem__

    def poisoned(self, index):
        x, y = original(self, index)
        return x, y * np.nan  # a NaN target makes the loss NaN

    monkeypatch.setattr(loader.ArraySequence, "__getitem__", poisoned)
    run_dir = tmp_path / "run"
    argv = ["--data-dir", str(data_dir), "--run-dir", str(run_dir), "--epochs", "2", *BASE]
    assert script.main(argv) == 1
    error = capsys.readouterr().err
    assert "loss became nan at epoch 1" in error and "--lr" in error
    assert not (run_dir / "state.json").exists()


def test_model_options_and_mixed_precision_resume(data_dir, tmp_path, standin):
    import keras

    run_dir = tmp_path / "run"
    argv = ["--data-dir", str(data_dir), "--run-dir", str(run_dir), "--no-attention",
            "--output-stride", "8", "--mixed-precision", "float16", "--augment", *BASE]
    assert script.main(argv + ["--epochs", "1"]) == 0
    config = config_json(run_dir)
    assert config["model"]["attention"] is False and config["model"]["output_stride"] == 8
    assert config["mixed_precision"] == "float16" and config["augment"] is True
    assert keras.config.dtype_policy().name == "float32"  # restored after the run
    # The loss-scale optimizer's state resumes too.
    assert script.main(argv + ["--epochs", "2"]) == 0
    assert type(standin[-1].optimizer).__name__ == "LossScaleOptimizer"
    assert standin[-1].optimizer.iterations.numpy() == 6
    assert [row["epoch"] for row in history(run_dir)] == ["1", "2"]


def test_config_shows_how_the_data_was_resized(data_dir):
    from attention_deeplab.training.data import data_resize

    manifest = json.loads((data_dir / "split.json").read_text())
    (data_dir / "split.json").write_text(json.dumps({**manifest, "resize": "exact"}))
    assert data_resize(data_dir) == "exact"
    (data_dir / "split.json").unlink()  # bare arrays: nothing recorded
    assert data_resize(data_dir) is None
