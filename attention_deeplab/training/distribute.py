"""Synchronous data-parallel training through each backend's own engine.

- TensorFlow: `tf.distribute.MirroredStrategy` over the local GPUs (or, where
  none, the logical CPU devices, which is how the tests run it on a CPU).
  Several machines: set `TF_CONFIG` (the cluster and this worker's index) on
  each machine and run the same command on each; `--data-parallel` then uses
  `tf.distribute.MultiWorkerMirroredStrategy`, the same engine across machines.
- JAX: `keras.distribution.DataParallel` over `keras.distribution.list_devices()`.
  Several machines: `keras.distribution.initialize()` (it wraps
  `jax.distributed.initialize`, configured by the `KERAS_DISTRIBUTION_*`
  variables) is called when `KERAS_DISTRIBUTION_NUM_PROCESSES` is set, after
  which the device list spans all processes. Multi-machine runs on either
  backend are untested here (one machine).
- PyTorch: Keras has no engine for it, so a clear error.
The batch size given is the global batch: it must divide by the device count.
"""
import contextlib
import os

import keras

from attention_deeplab.training.run_folder import TrainingError


def _tf_strategy():
    import tensorflow as tf

    if os.environ.get("TF_CONFIG"):
        return tf.distribute.MultiWorkerMirroredStrategy()
    devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    return tf.distribute.MirroredStrategy(devices=[d.name for d in devices])


class DataParallel:
    """The backend's data-parallel engine over all local devices.

    Build and compile the model in `build_scope()`, run `fit` in `fit_scope()`.
    Validation runs on an undistributed twin of the model instead: both
    engines split every batch evenly over the devices, and a validation set
    rarely divides (ISIC 2018's 259 images do not divide by 2).

    Args:
        batch_size: int. The global batch size.

    Raises:
        TrainingError: an unsupported backend, or a batch size that does not
            divide by the number of devices.
    """

    def __init__(self, batch_size):
        self.backend = keras.backend.backend()
        if self.backend == "tensorflow":
            self._engine = _tf_strategy()
            self.devices = self._engine.num_replicas_in_sync
        elif self.backend == "jax":
            if os.environ.get("KERAS_DISTRIBUTION_NUM_PROCESSES"):
                keras.distribution.initialize()
            devices = keras.distribution.list_devices()
            self._engine = keras.distribution.DataParallel(devices=devices)
            self.devices = len(devices)
        else:
            raise TrainingError(
                f"--data-parallel is not available on the {self.backend} backend: use "
                "KERAS_BACKEND=tensorflow or jax, or train without --data-parallel")
        if batch_size % self.devices or batch_size < 2 * self.devices:
            raise TrainingError(f"--batch-size {batch_size} does not divide by the "
                                f"{self.devices} devices of --data-parallel into at least 2 images each: it is the global batch")

    def build_scope(self):
        return self._engine.scope()

    def fit_scope(self):
        # A Keras model keeps the tf.distribute strategy it was built in; JAX
        # reads the current distribution when fit starts.
        return self._engine.scope() if self.backend == "jax" else contextlib.nullcontext()
