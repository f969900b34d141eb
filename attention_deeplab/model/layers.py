"""Custom layers of the model: bilinear resizing with `align_corners=True` geometry.

The original code resized with TensorFlow's `resize_bilinear(..., align_corners=True)`.
`keras.ops.image.resize` only offers half-pixel-centred sampling, which changes the
network's output by up to 0.45 on the checkpoint probe, so the original geometry is
rebuilt here from two interpolation matrices applied with `keras.ops.einsum`.
"""
import numpy as np

import keras
from keras import ops


def align_corners_matrix(in_size, out_size):
    """Returns the (out_size, in_size) matrix of 1-D `align_corners=True` interpolation.

    Output sample i reads the input at i * (in_size - 1) / (out_size - 1): the first and
    last samples of both grids coincide. Each row holds the two linear weights.

    Args:
        in_size: int. Length of the input axis.
        out_size: int. Length of the output axis.

    Returns:
        A float64 numpy array of shape (out_size, in_size) whose rows sum to 1.
    """
    if in_size < 1 or out_size < 1:
        raise ValueError(f"sizes must be positive, got in_size={in_size}, out_size={out_size}")
    scale = (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    source = np.arange(out_size, dtype=np.float64) * scale
    low = np.minimum(np.floor(source).astype(np.int64), in_size - 1)
    high = np.minimum(low + 1, in_size - 1)
    frac = source - low
    matrix = np.zeros((out_size, in_size), dtype=np.float64)
    rows = np.arange(out_size)
    np.add.at(matrix, (rows, low), 1.0 - frac)
    np.add.at(matrix, (rows, high), frac)
    return matrix


@keras.saving.register_keras_serializable(package="attention_deeplab")
class BilinearResize(keras.layers.Layer):
    """Bilinear resizing of NHWC maps to a fixed size with `align_corners=True`.

    Equivalent to the original's `BilinearUpsampling` layer (TensorFlow 1's
    `resize_bilinear(align_corners=True)`) on every Keras backend. Needs the input's
    height and width to be known when the layer is built.

    Args:
        size: tuple of 2 ints. Output height and width.
        **kwargs: forwarded to `keras.layers.Layer`.
    """

    def __init__(self, size, **kwargs):
        super().__init__(**kwargs)
        self.size = tuple(int(s) for s in size)
        if len(self.size) != 2 or min(self.size) < 1:
            raise ValueError(f"BilinearResize: `size` must be 2 positive ints, got {size}")
        self._rows = None
        self._cols = None

    def build(self, input_shape):
        if len(input_shape) != 4 or input_shape[1] is None or input_shape[2] is None:
            raise ValueError(
                f"BilinearResize '{self.name}' needs an NHWC input with known height "
                f"and width, got shape {input_shape}")
        # Constants, not weights: the checkpoint layout has no entry for them.
        self._rows = align_corners_matrix(input_shape[1], self.size[0])
        self._cols = align_corners_matrix(input_shape[2], self.size[1])

    def call(self, inputs):
        rows = ops.cast(ops.convert_to_tensor(self._rows), inputs.dtype)
        cols = ops.cast(ops.convert_to_tensor(self._cols), inputs.dtype)
        x = ops.einsum("oh,bhwc->bowc", rows, inputs)
        return ops.einsum("pw,bowc->bopc", cols, x)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.size[0], self.size[1], input_shape[3])

    def get_config(self):
        config = super().get_config()
        config.update({"size": list(self.size)})
        return config
