"""A resumed run is the same run: every option that can change its epochs' results
must match (else a one-line refusal naming each), and only those in
run_config.RESUMABLE_KEYS, weights by another path to the same file, verbosity or
another backend (which history.csv then names, epoch by epoch) may differ."""
import csv
import dataclasses
import json
import os
import shutil

import pytest

import Train_Skin_Lesion_Segmentation as script
from attention_deeplab.errors import TrainingError
from attention_deeplab.run_config import RunConfig
from attention_deeplab.training.run_folder import check_compatible
from tests.support.models import standin_model
from tests.training.conftest import make_arrays

# Written here, not read from run_config: widening that list must fail this test.
MAY_DIFFER = {"epochs", "data_dir", "keras_backend", "versions", "tensorboard"}
MODEL = {"input_shape": [32, 32, 3], "preset": "tiny", "attention": True, "output_stride": 16}
SAVED = RunConfig(model=MODEL, data_dir="/data", data_fingerprint="discs", sizes={"train": 12},
                  backbone_weights=None, keras_backend="tensorflow",
                  versions={"keras": "3"}, extra={"fold": 0, "folds": 5})
FIELDS = [f.name for f in dataclasses.fields(RunConfig) if f.name not in ("model", "extra")]


def _other(value):
    """A different value of the same kind."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value * 2 + 1
    if isinstance(value, dict):
        return {**value, "other": 1}
    if isinstance(value, list):
        return value[:-1] + [value[-1] + 1]
    return "other" if value is None else value + "-other"


def _changed(key):
    """SAVED with `key` changed: a field, a model option (model.NAME) or an extra key."""
    if key.startswith("model."):
        name = key.split(".")[1]
        return dataclasses.replace(SAVED, model={**MODEL, name: _other(MODEL[name])})
    if key in SAVED.extra:
        return dataclasses.replace(SAVED, extra={**SAVED.extra, key: _other(SAVED.extra[key])})
    return dataclasses.replace(SAVED, **{key: _other(getattr(SAVED, key))})


@pytest.mark.parametrize("key", FIELDS + [f"model.{name}" for name in MODEL] + ["fold"])
def test_every_config_key_must_match_unless_it_may_differ(key, tmp_path):
    config = _changed(key)
    if key in MAY_DIFFER:
        check_compatible(SAVED, config, tmp_path)
        return
    with pytest.raises(TrainingError) as caught:
        check_compatible(SAVED, config, tmp_path)
    message = str(caught.value)
    old, new = [json.loads(json.dumps(c.to_json())) for c in (SAVED, config)]
    if key.startswith("model."):
        old, new, key = old["model"], new["model"], key.split(".")[1]
    there, now = old.get(key), new.get(key)
    assert len(message.splitlines()) == 1 and "--overwrite" in message
    assert f"{there!r} there, {now!r} now" in message, message


def test_the_refusal_names_each_differing_option(tmp_path):
    config = dataclasses.replace(SAVED, batch_size=2, seed=3, precise_bn=True,
                                 model={**MODEL, "preset": "full"})
    with pytest.raises(TrainingError) as caught:
        check_compatible(SAVED, config, tmp_path)
    message = str(caught.value)
    for part in ("--batch-size: 7 there, 2 now", "--seed: 0 there, 3 now",
                 "--precise-bn: False there, True now", "--preset: 'tiny' there, 'full' now"):
        assert part in message, message
    assert len(message.splitlines()) == 1


def test_weights_by_another_path_to_the_same_file(tmp_path):
    weights = tmp_path / "a.weights.h5"
    weights.write_bytes(b"weights")
    (tmp_path / "symlink.h5").symlink_to(weights)
    os.link(weights, tmp_path / "hardlink.h5")
    shutil.copyfile(weights, tmp_path / "copy.h5")
    for key in ("backbone_weights", "init_weights"):
        saved = dataclasses.replace(SAVED, **{key: str(weights)})
        for same in ("symlink.h5", "hardlink.h5"):
            check_compatible(saved, dataclasses.replace(saved, **{key: str(tmp_path / same)}),
                             tmp_path)
        for other in ("copy.h5", "missing.h5"):  # by path, not content: a copy differs
            with pytest.raises(TrainingError, match=f"--{key.replace('_', '-')}: "):
                check_compatible(saved, dataclasses.replace(saved, **{key: str(tmp_path / other)}),
                                 tmp_path)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """Data, and a run of one epoch on it: (data_dir, run_dir, base options)."""
    root = tmp_path_factory.mktemp("resume_identity")
    data = make_arrays(root / "data")
    options = {"--data-dir": str(data), "--run-dir": str(root / "run"), "--epochs": "1",
               "--preset": "tiny", "--backbone-weights": "none", "--batch-size": "4",
               "--lr": "1e-2", "--quiet": True}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("attention_deeplab.training.model_setup._build",
                      lambda model_options, weights: standin_model(model_options, False))
        assert script.main(_argv(options)) == 0
    return root, options


def _argv(options):
    argv = []
    for name, value in options.items():
        argv += [name] if value is True else [] if value is False else [name, value]
    return argv


def _other_data(root):
    return str(make_arrays(root / "other_data", seed=1))


def _linked_data(root):
    link = root / "linked_data"
    if not link.exists():
        link.symlink_to(root / "data")
    return str(link)


# Each option of the command line, changed on a rerun, and whether that resumes the run.
# (--run-dir names the run; --overwrite starts it again: test_training_run.py.)
CASES = {
    "--dataset": ("ph2", "--dataset"), "--data-dir": (_other_data, "--data-dir's arrays"),
    "--data-dir same files": (_linked_data, None), "--epochs": ("2", None),
    "--batch-size": ("2", "--batch-size"), "--lr": ("1e-3", "--lr"),
    "--backbone-weights": ("pascal_voc", "--backbone-weights"),
    "--init-weights": (lambda root: str(root / "data" / "w.h5"), "--init-weights"),
    "--preset": ("full", "--preset"), "--no-attention": (True, "--no-attention"),
    "--output-stride": ("8", "--output-stride"), "--augment": (True, "--augment"),
    "--mixed-precision": ("float16", "--mixed-precision"), "--seed": ("1", "--seed"),
    "--data-parallel": (True, "--data-parallel"), "--precise-bn": ("off", "--precise-bn"),
    "--precise-bn same value": ("on", None),  # auto resolved to on (from scratch)
    "--precise-bn-images": ("8", "--precise-bn-images"), "--quiet": (False, None),
    "--tensorboard": (True, None),  # only logs: the epochs' results are the same
}


def test_every_option_of_the_command_line_is_a_case():
    options = {name for action in script.build_parser()._actions
               for name in action.option_strings if name.startswith("--")}
    assert options - {"--help", "--run-dir", "--overwrite"} == {c.split()[0] for c in CASES}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_rerun_with_an_option_changed(case, finished, tmp_path, standin, capsys):
    root, options = finished
    value, refused_as = CASES[case]
    run = tmp_path / "run"
    shutil.copytree(options["--run-dir"], run)
    before = (run / "config.json").read_bytes()
    changed = {**options, "--run-dir": str(run),
               case.split()[0]: value(root) if callable(value) else value}
    capsys.readouterr()
    status = script.main(_argv(changed))
    output, error = capsys.readouterr()
    if refused_as is None:
        assert status == 0, error
        epochs = 2 if case == "--epochs" else 1
        with open(run / "history.csv", newline="") as stream:
            assert [int(row["epoch"]) for row in csv.DictReader(stream)] == list(
                range(1, epochs + 1))
        assert epochs == 2 or "finished its 1 epochs" in output
        return
    assert status == 1 and len(error.strip().splitlines()) == 1, error
    assert f"{refused_as}: " in error and " there, " in error and "--overwrite" in error, error
    assert (run / "config.json").read_bytes() == before and not standin


def _rows(run):
    with open(run / "history.csv", newline="") as stream:
        return list(csv.DictReader(stream))


@pytest.mark.parametrize("before", ["another backend", "no column"])
def test_resume_on_another_backend_names_each_epochs_backend(
        before, finished, tmp_path, standin):
    import keras

    root, options = finished
    now = keras.backend.backend()
    other = "torch" if now == "jax" else "jax"
    run = tmp_path / "run"
    shutil.copytree(options["--run-dir"], run)
    # As if epoch 1 had run on another backend, or been written by a version without the column.
    config = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({**config, "keras_backend": other}))
    state = json.loads((run / "state.json").read_text())
    rows = [{k: v for k, v in row.items() if k != "backend"} for row in state["history"]]
    if before == "another backend":
        rows = [{**row, "backend": other} for row in rows]
    (run / "state.json").write_text(json.dumps({**state, "history": rows}))
    with open(run / "history.csv", "w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    from benchmarks.gpu_runner import read_history
    assert [row["epoch"] for row in read_history(run)] == [1.0]  # an older file loads
    assert script.main(_argv({**options, "--run-dir": str(run), "--epochs": "2"})) == 0
    first = other if before == "another backend" else ""  # unknown: not recorded then
    assert [row["backend"] for row in _rows(run)] == [first, now]
    assert [row["backend"] for row in read_history(run)] == [first, now]
    assert json.loads((run / "config.json").read_text())["keras_backend"] == now
