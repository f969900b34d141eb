"""Contours drawn with numpy (so ONNX prediction needs no scipy) equal scipy.ndimage's."""
import numpy as np
import pytest
from scipy import ndimage

from attention_deeplab.inference.overlays import contour


@pytest.mark.parametrize("thickness", [1, 2, 3])
def test_contour_equals_scipys_erosion_and_dilation(thickness):
    rng = np.random.default_rng(thickness)
    for shape in ((40, 57), (1, 9), (33, 33)):
        mask = ndimage.binary_opening(rng.random(shape) > 0.4)
        mask[0, :] = True  # touching the border: outside counts as background
        expected = mask & ~ndimage.binary_erosion(mask, border_value=0)
        if thickness > 1:
            expected = ndimage.binary_dilation(expected, iterations=thickness - 1)
        np.testing.assert_array_equal(contour(mask, thickness), expected)
