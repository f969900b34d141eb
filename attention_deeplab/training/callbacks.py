"""Training-time metric and callbacks: pooled Dice, the NaN guard, the epoch progress bar."""
import math

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="attention_deeplab")
class PooledDice(keras.metrics.Metric):
    """Dice (F1) over all pixels seen since the last reset, as the paper's table pools them.

    A pixel is lesion when its probability is strictly above `threshold`, as
    in the original evaluation; the ground truth is `mask > 0.5`.

    Args:
        threshold: float. Probability threshold. Defaults to 0.5.
        name: str. Defaults to "dice".
    """

    def __init__(self, threshold=0.5, name="dice", **kwargs):
        super().__init__(name=name, **kwargs)
        self.threshold = threshold
        self.overlap = self.add_variable(shape=(), initializer="zeros", name="overlap")
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")

    def update_state(self, y_true, y_pred, sample_weight=None):
        truth = ops.cast(ops.greater(y_true, 0.5), "float32")
        pred = ops.cast(ops.greater(y_pred, self.threshold), "float32")
        self.overlap.assign(self.overlap + ops.sum(truth * pred))
        self.total.assign(self.total + ops.sum(truth) + ops.sum(pred))

    def result(self):
        # Both empty: nothing to find and nothing found, a perfect score.
        return ops.where(self.total > 0, 2.0 * self.overlap / ops.maximum(self.total, 1.0), 1.0)

    def reset_state(self):
        self.overlap.assign(0.0)
        self.total.assign(0.0)

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}


class NanGuard(keras.callbacks.Callback):
    """Stops training at the first batch whose loss is NaN or infinite, remembering where."""

    def __init__(self):
        super().__init__()
        self.failed_at = None
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.failed_at = (self.epoch, batch, float(loss))
            self.model.stop_training = True


class EpochProgress(keras.callbacks.ProgbarLogger):
    """Keras's progress bar, headed "Epoch e/total" although each `fit` call runs one epoch."""

    def __init__(self, total_epochs):
        super().__init__()
        self.total_epochs = total_epochs

    def set_params(self, params):
        super().set_params(params)
        self.epochs = self.total_epochs
