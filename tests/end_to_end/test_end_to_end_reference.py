"""The whole pipeline reproduces the committed reference: a refactoring changes no number.

The reference (tests/fixtures/end_to_end/) was generated with the TensorFlow
backend; regenerate it with the command in pipeline.py only for a change that
alters the numbers on purpose, and say why in the commit.
"""
import keras
import numpy as np
import pytest

from tests.end_to_end.pipeline import read_reference
from tests.support.processes import run_python

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="the reference was made with TensorFlow")]
TOLERANCE = 1e-5  # float32 arithmetic, same backend and machine kind: differences are rounding
MASK_AGREEMENT = 0.999


def test_pipeline_reproduces_the_reference(tmp_path):
    # A process of its own: the run must not see keras state left by other tests.
    run_python("-m", "tests.end_to_end.pipeline", "--out", tmp_path, backend="tensorflow")
    numbers, masks, probabilities = read_reference(tmp_path)
    expected_numbers, expected_masks, expected_probabilities = read_reference()

    missing = sorted(set(expected_numbers) - set(numbers))
    assert not missing, f"numbers no longer produced: {missing[:5]}"
    off = {key: (numbers[key], value) for key, value in expected_numbers.items()
           if not np.isclose(numbers[key], value, rtol=TOLERANCE, atol=TOLERANCE)}
    assert not off, f"{len(off)} numbers differ (now, reference): {dict(list(off.items())[:5])}"

    assert sorted(masks) == sorted(expected_masks)
    agree = sum(int((masks[k] == expected_masks[k]).sum()) for k in expected_masks)
    total = sum(mask.size for mask in expected_masks.values())
    assert agree / total >= MASK_AGREEMENT, f"only {agree / total:.5f} of mask pixels agree"
    np.testing.assert_allclose(probabilities, expected_probabilities, atol=TOLERANCE)
