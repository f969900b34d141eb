"""Precise batch-norm statistics: population values over the batches, nothing else
touched, the same compiled as eager on every backend."""
import os

import keras
import numpy as np
import pytest

from attention_deeplab.training import recompute_bn_statistics
from tests.support.processes import run_python


def test_statistics_are_the_population_mean_and_variance():
    rng = np.random.default_rng(0)
    batches = [rng.normal(3.0 + i, 1.0 + i, (4, 6, 6, 2)).astype(np.float32) for i in range(3)]
    inputs = keras.Input((6, 6, 2))
    norm = keras.layers.BatchNormalization(momentum=0.99)
    drop = keras.layers.Dropout(0.5)
    model = keras.Model(inputs, keras.layers.Conv2D(1, 1)(drop(norm(inputs))))
    frozen_in = keras.Input((6, 6, 2))
    frozen = keras.layers.BatchNormalization()
    frozen.trainable = False
    nested = keras.Model(frozen_in, model(frozen(frozen_in)))

    assert recompute_bn_statistics(nested, batches) == 1
    # The frozen norm in front (mean 0, variance 1) scales by 1 / sqrt(1 + epsilon).
    pooled = np.concatenate(batches).reshape(-1, 2) / np.sqrt(1 + frozen.epsilon)
    np.testing.assert_allclose(norm.moving_mean.numpy(), pooled.mean(0), rtol=1e-5)
    np.testing.assert_allclose(norm.moving_variance.numpy(), pooled.var(0), rtol=1e-4)
    np.testing.assert_array_equal(frozen.moving_mean.numpy(), 0)  # frozen: left alone
    assert norm.momentum == 0.99 and drop.rate == 0.5  # restored


def test_batches_of_pairs_and_training_outputs_unchanged():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4, 6, 6, 3)).astype(np.float32)
    inputs = keras.Input((6, 6, 3))
    model = keras.Model(inputs, keras.layers.BatchNormalization()(keras.layers.Conv2D(2, 1)(inputs)))
    before = model(x, training=True)
    recompute_bn_statistics(model, [(x, np.zeros((4, 6, 6, 1)))])
    np.testing.assert_allclose(model(x, training=True), before, atol=1e-5)
    # In inference mode the recomputed statistics now give the training-mode output.
    np.testing.assert_allclose(model(x, training=False), before, atol=1e-2)


COMPARE = """
import keras, numpy as np
from tests.support.models import standin_model
from attention_deeplab.training.precise_bn import _layers, recompute_bn_statistics

keras.utils.set_random_seed(0)
inner = standin_model({"input_shape": [16, 16, 3]})
inputs = keras.Input((16, 16, 3))
x = keras.layers.BatchNormalization()(keras.layers.Conv2D(3, 3, padding="same")(inputs))
model = keras.Model(inputs, inner(x))  # nested, with dropout
rng = np.random.default_rng(0)
batches = [rng.uniform(0, 255, (n, 16, 16, 3)).astype(np.float32) for n in (4, 4, 3)]

def statistics():
    return [keras.ops.convert_to_numpy(v).copy() for bn in _layers(model, keras.layers.BatchNormalization)
            for v in (bn.moving_mean, bn.moving_variance)]

recompute_bn_statistics(model, batches, compiled=False)
eager = statistics()
recompute_bn_statistics(model, batches)
compiled = statistics()
print(max(float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(a)))) for a, b in zip(eager, compiled)))
"""


WEIGHTED = """
import keras, numpy as np
from attention_deeplab.training import recompute_bn_statistics

rng = np.random.default_rng(0)
# Unequal batches that differ: 7 images around 0.2, then 3 around 0.8.
images = np.concatenate([rng.uniform(0.0, 0.4, (7, 8, 8, 3)), rng.uniform(0.5, 1.1, (3, 8, 8, 3))])
images = images.astype(np.float32)
inputs = keras.Input((8, 8, 3))
norm = keras.layers.BatchNormalization()
model = keras.Model(inputs, keras.layers.Conv2D(1, 1)(norm(inputs)))
batches = [images[start:start + 7] for start in range(0, 10, 7)]  # batch 7: 7 and 3 images
pixels = images.astype(np.float64).reshape(-1, 3)
for compiled in (None, False):
    recompute_bn_statistics(model, batches, compiled)
    print(float(np.abs(keras.ops.convert_to_numpy(norm.moving_mean) - pixels.mean(0)).max()),
          float(np.abs(keras.ops.convert_to_numpy(norm.moving_variance) - pixels.var(0)).max()))
"""


def _backend_case(backend):
    """TensorFlow in `make test`; JAX and PyTorch in `make test-backends`."""
    if backend != "tensorflow" and not os.environ.get("RUN_BACKEND_TESTS"):
        pytest.skip("run with `make test-backends` (installs jax and torch)")
    if backend != "tensorflow":
        pytest.importorskip(backend)


@pytest.mark.parametrize("backend", ["tensorflow", "jax", "torch"])
def test_batches_weighted_by_their_images(backend):
    """10 images at batch 7 (batches of 7 and 3): the moving statistics are the
    mean and variance over all 10 images' pixels, compiled and eager, on every
    backend. Equal weights per batch would be off by about 0.1 in the mean."""
    _backend_case(backend)
    out = run_python("-c", WEIGHTED, backend=backend, timeout=300)
    lines = out.strip().splitlines()[-2:]
    for line in lines:
        mean_error, variance_error = map(float, line.split())
        assert mean_error < 1e-5 and variance_error < 1e-5, lines


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["tensorflow", "jax", "torch"])
def test_compiled_statistics_equal_the_eager_ones(backend):
    """The stateless forward (jit-compiled on JAX, eager on the others) gives the
    statistics of the eager one, partial batch and nested model included."""
    _backend_case(backend)
    out = run_python("-c", COMPARE, backend=backend, timeout=300)
    assert float(out.strip().splitlines()[-1]) < 1e-5
