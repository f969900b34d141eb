"""The pipeline on every Keras 3 backend (`make test-backends`).

Each backend runs in its own process, since KERAS_BACKEND is read once at import:
the real command lines (prepare, train, resume, evaluate, predict) on a tiny
synthetic set, the authors'-checkpoint probe with the full network, and a
checkpoint trained on one backend predicted on the others.
"""
import json
import os

import numpy as np
import pytest

from tests.support.float32 import probability_bound
from tests.support.probe import PROBE_BOUND
from tests.support.processes import run_python

BACKENDS = ("tensorflow", "jax", "torch")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.environ.get("RUN_BACKEND_TESTS"),
                       reason="run with `make test-backends` (installs jax and torch)"),
]


def run(backend, *args):
    """Runs `python *args` under `backend` and returns its stdout; fails with its output."""
    return run_python(*args, backend=backend)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("backends")
    raw, prepared = root / "raw", root / "prepared"
    run("tensorflow", "-m", "attention_deeplab.data.synthetic", "--layout", "isic2018",
        "--count", 16, "--out", raw, "--seed", 3)
    run("tensorflow", "Prepare_ISIC2018.py", "--data-dir", raw, "--out", prepared, "--size", 64)
    return prepared


@pytest.fixture(scope="module")
def runs(data_dir, tmp_path_factory):
    """One tiny run per backend: 1 epoch, then resumed to 2 (the same command, more epochs)."""
    root = tmp_path_factory.mktemp("runs")
    folders = {}
    for backend in BACKENDS:
        folder = root / backend
        train = ["Train_Skin_Lesion_Segmentation.py", "--data-dir", data_dir, "--run-dir", folder,
                 "--preset", "tiny", "--backbone-weights", "none", "--batch-size", 4,
                 "--lr", "1e-3", "--quiet", "--epochs"]
        run(backend, *train, 1)
        run(backend, *train, 2)
        folders[backend] = folder
    return folders


@pytest.mark.parametrize("backend", BACKENDS)
def test_train_resume_evaluate_predict(backend, runs, data_dir, tmp_path):
    folder = runs[backend]
    history = (folder / "history.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in history[1:]] == ["1", "2"]
    assert json.loads((folder / "config.json").read_text())["model"]["preset"] == "tiny"
    # The same checkpoint evaluated on another backend: equal accuracy, up to the
    # pixels whose probability lies within the two backends' difference of 0.5.
    other = "torch" if backend == "tensorflow" else "tensorflow"
    evaluations = {}
    for engine in (backend, other):
        run(engine, "Evaluate_Skin.py", "--run-dir", folder, "--data-dir", data_dir,
            "--out", tmp_path / engine, "--save-probabilities")
        evaluations[engine] = (
            json.loads((tmp_path / engine / "metrics.json").read_text())["pooled"]["accuracy"],
            np.load(tmp_path / engine / "probabilities.npy"))
    (accuracy, ours), (expected, theirs) = evaluations[backend], evaluations[other]
    may_flip = np.mean(np.abs(theirs - 0.5) <= np.abs(ours - theirs).max())
    assert abs(accuracy - expected) <= may_flip, (accuracy, expected, may_flip)
    images = sorted((data_dir.parent / "raw").rglob("*.jpg"))[:2]
    run(backend, "Predict_Skin.py", "--run-dir", folder, "--input", *images, "--out", tmp_path / "pred")
    assert len(list((tmp_path / "pred").glob("*_mask.png"))) == 2


PREDICT = """
import sys, numpy as np
from attention_deeplab.inference import load_inference_model
from attention_deeplab.data.loader import load_split, normalize_images
from tests.support.float32 import summed_fan_in
images, _ = load_split(sys.argv[2], "test")
model = load_inference_model(run_dir=sys.argv[1])
np.save(sys.argv[3], np.asarray(model.predict(normalize_images(images[:4]), verbose=0)))
print(summed_fan_in(model))
"""


@pytest.mark.parametrize("source", BACKENDS)
def test_checkpoint_predicts_the_same_on_every_backend(source, runs, data_dir, tmp_path):
    """Within the float32 bound of reordered sums (tests/support/float32.py: a
    quarter of 2 u times the summed fan-in times the largest logit magnitude);
    a fixed atol of 1e-4 failed on another CPU at 1.02e-4."""
    outputs = {}
    for backend in BACKENDS:
        out = tmp_path / f"{backend}.npy"
        fan_in = int(run(backend, "-c", PREDICT, runs[source], data_dir, out).split()[-1])
        outputs[backend] = np.load(out)
    bound = probability_bound(fan_in, outputs[source])
    for backend in BACKENDS:
        worst = float(np.abs(outputs[backend] - outputs[source]).max())
        assert worst <= bound, f"{backend} off by {worst:.3g} from {source}, bound {bound:.3g}"


PROBE = """
import sys, numpy as np
from attention_deeplab.model import Deeplabv3pa, load_weights_into
from tests.support.probe import write_probe_checkpoint
checkpoint = write_probe_checkpoint(sys.argv[1], sys.argv[2])
model = Deeplabv3pa(weights=None, input_shape=(256, 256, 3), compile=False)
load_weights_into(model, checkpoint)
probe = np.load(sys.argv[1] + "/probe.npz")
y = np.asarray(model.predict(probe["x_uint8"].astype("float32") / 255.0, verbose=0))
print("max_abs_diff", float(np.abs(y - probe["y"]).max()))
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_authors_checkpoint_probe(backend, original_checkpoint_dir, tmp_path):
    out = run(backend, "-c", PROBE, original_checkpoint_dir, tmp_path / "weight_isic18_probe")
    difference = float(out.split("max_abs_diff")[-1])
    assert difference < PROBE_BOUND, (backend, difference)
