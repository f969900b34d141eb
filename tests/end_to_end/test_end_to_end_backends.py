"""The committed end-to-end checkpoint (made on TensorFlow) predicts within the
float32 bound on JAX and PyTorch too (`make test-backends`): the bound of
test_end_to_end_reference holds across backends, not only across CPUs."""
import os

import numpy as np
import pytest

from tests.end_to_end.pipeline import read_reference
from tests.end_to_end.test_end_to_end_reference import assert_within_float32_bound
from tests.support.processes import run_python

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not os.environ.get("RUN_BACKEND_TESTS"),
    reason="run with `make test-backends` (installs jax and torch)")]

INFER = """
import sys, numpy as np
from attention_deeplab.inference import load_inference_model
from tests.support.float32 import summed_fan_in
from tests.end_to_end import pipeline
data = pipeline.Path(sys.argv[1]) / "data"
pipeline.prepare(data)
probabilities = pipeline.infer(pipeline.REFERENCE / "checkpoint", data, data.parent / "evaluation")
np.save(sys.argv[2], probabilities)
print(summed_fan_in(load_inference_model(run_dir=pipeline.REFERENCE / "checkpoint")))
"""


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_checkpoint_probabilities_on_other_backends(backend, tmp_path):
    pytest.importorskip(backend)
    out = run_python("-c", INFER, tmp_path, tmp_path / "p.npy", backend=backend)
    _, expected = read_reference()
    assert_within_float32_bound(np.load(tmp_path / "p.npy"), expected, int(out.split()[-1]))
