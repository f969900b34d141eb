"""Why precise statistics are on from scratch: with Keras's moving averages alone, the
network trained from scratch predicts the same map for every image in inference mode.

Measured here (TensorFlow, 2 CPU cores, tiny preset at 32x32, 10 steps): the mean over
pixels of the standard deviation across 8 validation images was 8e-6 with the moving
statistics, 0.026 with precise statistics and 0.025 in training mode.
"""
import keras
import numpy as np
import pytest

from attention_deeplab.data.loader import load_split, normalize_images
from attention_deeplab.model import Deeplabv3pa
from attention_deeplab.training import recompute_bn_statistics


def spread(probabilities):
    """How much the predicted map varies across images: the mean over pixels of the
    standard deviation across images (0 for a model that ignores its input)."""
    return float(np.asarray(probabilities)[..., 0].std(axis=0).mean())


@pytest.mark.slow
def test_from_scratch_the_moving_statistics_predict_a_constant(tmp_path, make_data):
    data = make_data(tmp_path / "data", train=16, val=8)
    train_images, masks = load_split(data, "train")
    images, targets = normalize_images(train_images), (masks > 127).astype("float32")[..., None]
    val_images = normalize_images(load_split(data, "val")[0])
    keras.utils.set_random_seed(0)
    model = Deeplabv3pa(weights=None, input_shape=(32, 32, 3), preset="tiny", compile=False)
    # Eager steps: tracing the network's training step costs more than these few steps.
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="binary_crossentropy",
                  run_eagerly=True)
    batches = [slice(start, start + 4) for start in range(0, 16, 4)]
    for step in range(10):
        model.train_on_batch(images[batches[step % 4]], targets[batches[step % 4]])

    trained = spread(model(val_images, training=True))
    moving = spread(model(val_images, training=False))
    recompute_bn_statistics(model, [images[batch] for batch in batches])
    precise = spread(model(val_images, training=False))
    assert trained > 0.01  # in training mode the maps follow the images
    assert moving < 1e-4, moving  # one map for every image
    assert precise > 0.5 * trained, (precise, trained)
