"""The align_corners=True bilinear resize, at tiny shapes."""
import numpy as np
import pytest

import keras

from attention_deeplab.model.layers import BilinearResize, align_corners_matrix


def test_matrix_by_hand():
    # 2 -> 3 samples: the ends coincide, the middle is the mean.
    np.testing.assert_allclose(align_corners_matrix(2, 3), [[1, 0], [0.5, 0.5], [0, 1]])
    # 3 -> 2: align_corners keeps only the two end samples.
    np.testing.assert_allclose(align_corners_matrix(3, 2), [[1, 0, 0], [0, 0, 1]])
    # 1 -> 4: a broadcast (the image-pooling branch).
    np.testing.assert_allclose(align_corners_matrix(1, 4), np.ones((4, 1)))
    np.testing.assert_allclose(align_corners_matrix(5, 5), np.eye(5))


def test_resize_values_and_corners():
    x = np.arange(2 * 2 * 2 * 1, dtype="float32").reshape(2, 2, 2, 1)
    y = keras.ops.convert_to_numpy(BilinearResize((3, 5))(x))
    assert y.shape == (2, 3, 5, 1)
    np.testing.assert_allclose(y[:, [0, 0, -1, -1], [0, -1, 0, -1], 0],
                               x[:, [0, 0, 1, 1], [0, 1, 0, 1], 0])
    # Centre of a 2x2 map: the mean of its four values.
    np.testing.assert_allclose(y[0, 1, 2, 0], x[0].mean(), rtol=1e-6)


def test_matches_tensorflow_align_corners():
    if keras.backend.backend() != "tensorflow":
        pytest.skip("reference implementation is TensorFlow's")
    tf = pytest.importorskip("tensorflow")
    x = np.random.default_rng(0).normal(size=(2, 4, 6, 3)).astype("float32")
    for size in [(16, 24), (7, 5), (4, 6)]:
        expected = tf.compat.v1.image.resize_bilinear(x, size, align_corners=True).numpy()
        got = keras.ops.convert_to_numpy(BilinearResize(size)(x))
        np.testing.assert_allclose(got, expected, atol=1e-5)


def test_config_round_trip_and_no_weights():
    layer = BilinearResize((8, 6), name="up")
    layer.build((None, 4, 3, 2))
    assert layer.weights == []
    clone = BilinearResize.from_config(layer.get_config())
    assert clone.size == (8, 6) and clone.name == "up"
    assert clone.compute_output_shape((None, 4, 3, 2)) == (None, 8, 6, 2)


def test_float16_input_keeps_dtype():
    x = np.ones((1, 2, 2, 1), dtype="float16")
    layer = BilinearResize((4, 4), dtype="float16")
    y = layer(x)
    assert keras.backend.standardize_dtype(y.dtype) == "float16"
    np.testing.assert_allclose(keras.ops.convert_to_numpy(y), 1.0)


def test_rejects_bad_size_and_unknown_input_size():
    with pytest.raises(ValueError, match="size"):
        BilinearResize((0, 4))
    with pytest.raises(ValueError, match="known height"):
        BilinearResize((4, 4)).build((None, None, None, 3))
