"""The model a run trains: built from its options, started from the requested
weights, compiled with the paper's recipe."""
import contextlib
from pathlib import Path

import keras

from attention_deeplab.errors import TrainingError
from attention_deeplab.model import compile_model
from attention_deeplab.training.callbacks import PooledDice

MIXED_POLICIES = {"float16": "mixed_float16", "bfloat16": "mixed_bfloat16"}


@contextlib.contextmanager
def precision_policy(mixed_precision):
    """Sets the global dtype policy for the run and restores the previous one after it."""
    previous = keras.config.dtype_policy()
    if mixed_precision:
        keras.config.set_dtype_policy(MIXED_POLICIES[mixed_precision])
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def _build(options, weights):
    """Builds the network; a separate function so tests can stand a small model in."""
    from attention_deeplab.model import build_from_options

    return build_from_options(options, weights=weights, compile=False)


def _load_init_weights(model, path):
    from attention_deeplab.model import load_weights_into
    from attention_deeplab.errors import WeightsFileError

    if not Path(path).is_file():
        raise TrainingError(f"--init-weights {path}: no such file")
    try:
        load_weights_into(model, path)
    except WeightsFileError as error:  # damaged, not of another model
        raise TrainingError(f"--init-weights: {error}") from error
    except Exception as error:  # the loader's reasons vary by format; all are fatal
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise TrainingError(f"--init-weights {path} does not fit the model: {reason}") from error


def _layers(model):
    """Every layer of `model`, nested models included."""
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _layers(layer)


def synchronize_batch_norm(model):
    """Makes `model`'s batch norms normalise over the global batch under a
    TensorFlow strategy, as one device does, not over each device's share.

    Keras's `synchronized=True`, a flag read at each call: the weights and their
    names stay the same. JAX needs none: its jit over the sharded batch computes
    the whole batch's statistics (tests/training/test_data_parallel_batch_norm.py).
    """
    if keras.backend.backend() != "tensorflow":
        return
    for layer in _layers(model):
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.synchronized = True


def build_model(options, backbone_weights, init_weights, lr, data_parallel=False):
    """Builds and compiles the model to train (Adam, binary cross-entropy, as the original).

    Args:
        options: dict. The model options (see `attention_deeplab.model.model_options`).
        backbone_weights: str or None. "pascal_voc", a path, or None (from scratch).
            Ignored when `init_weights` is given.
        init_weights: str or None. Weights of a whole previous model to start from.
        lr: float. Adam's learning rate.
        data_parallel: bool. Built for a data-parallel engine: batch norm then
            normalises over the global batch. Defaults to False.

    Returns:
        keras.Model, compiled with accuracy and pooled Dice metrics.
    """
    start = None if init_weights else backbone_weights
    try:
        model = _build(options, start)
    except (ValueError, OSError, RuntimeError) as error:  # RuntimeError: no network
        what = f"--backbone-weights {backbone_weights}" if start else "the model options"
        hint = (" (on the command line: --backbone-weights none, or a local path)"
                if isinstance(error, RuntimeError) else "")
        raise TrainingError(f"cannot build the model with {what}: {error}{hint}") from error
    if init_weights:
        _load_init_weights(model, init_weights)
    if data_parallel:  # faithful: the paper's batch of 7 on one GPU is normalised as one
        synchronize_batch_norm(model)
    return compile_model(model, learning_rate=lr, metrics=("accuracy", PooledDice()))
