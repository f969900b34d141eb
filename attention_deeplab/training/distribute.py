"""Synchronous data-parallel training through each backend's own engine.

- TensorFlow: `tf.distribute.MirroredStrategy` over the local GPUs (or, where
  none, the logical CPU devices, which is how the tests run it on a CPU).
  Several machines: `tf.distribute.MultiWorkerMirroredStrategy` with a
  `TF_CONFIG` environment variable on each machine uses the same code path.
- JAX: `keras.distribution.DataParallel` over `keras.distribution.list_devices()`.
  Several machines: call `keras.distribution.initialize()` (it wraps
  `jax.distributed.initialize`) on each process first; the device list then
  spans all of them.
- PyTorch: no engine in Keras for it, so a clear error.
The batch size given is the global batch: it must divide by the device count.
"""
import contextlib

import keras

from attention_deeplab.training.run_folder import TrainingError


def _tf_strategy():
    import tensorflow as tf

    devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    return tf.distribute.MirroredStrategy(devices=[d.name for d in devices])


def data_parallel_scope(batch_size):
    """A context to build and compile the model in, and the number of devices.

    Args:
        batch_size: int. The global batch size.

    Returns:
        (context manager, int).

    Raises:
        TrainingError: an unsupported backend, or a batch size that does not
            divide by the number of devices.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        strategy = _tf_strategy()
        count = strategy.num_replicas_in_sync
    elif backend == "jax":
        devices = keras.distribution.list_devices()
        count = len(devices)
    else:
        raise TrainingError(
            f"--data-parallel is not available on the {backend} backend: use "
            "KERAS_BACKEND=tensorflow or jax, or train without --data-parallel")
    if batch_size % count:
        raise TrainingError(f"--batch-size {batch_size} does not divide by the {count} "
                            "devices of --data-parallel: it is the global batch")
    if backend == "jax":
        keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
        return contextlib.nullcontext(), count
    return strategy.scope(), count


def end_data_parallel():
    """Undoes the global JAX distribution so later models in the process are plain."""
    if keras.backend.backend() == "jax":
        keras.distribution.set_distribution(None)
