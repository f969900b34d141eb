"""Precise batch-norm statistics (Wu and Johnson, "Rethinking 'Batch' in BatchNorm", 2021).

Keras keeps an exponential moving average (momentum 0.99) of each batch's
mean and variance. From scratch, with a dozen steps an epoch, that average
lags far behind weights that change fast: the original network trained on
PH2 reached 0.93 training accuracy yet predicted a constant in inference
mode. Here the statistics are recomputed with the current weights over
training batches, before each validation and so before every saved checkpoint.
"""
import contextlib

import keras
import numpy as np


def _layers(model, kind):
    """Every layer of `kind` in `model`, nested models included."""
    found = []
    for layer in model.layers:
        if isinstance(layer, kind):
            found.append(layer)
        if hasattr(layer, "layers"):
            found.extend(_layers(layer, kind))
    return found


def _trainable_norms(model):
    return [bn for bn in _layers(model, keras.layers.BatchNormalization) if bn.trainable]


@contextlib.contextmanager
def _statistics_mode(model):
    """Batch norms that keep each batch's statistics (momentum 0) and no dropout,
    restored afterwards whatever happens."""
    norms = _trainable_norms(model)
    drops = _layers(model, keras.layers.Dropout)
    saved = [bn.momentum for bn in norms], [d.rate for d in drops]
    try:
        for bn in norms:
            bn.momentum = 0.0
        # Dropout noise would inflate the variances the next layers see; with
        # rate 0 the eager call skips it.
        for drop in drops:
            drop.rate = 0.0
        yield norms
    finally:
        for bn, momentum in zip(norms, saved[0]):
            bn.momentum = momentum
        for drop, rate in zip(drops, saved[1]):
            drop.rate = rate


def _no_grad():
    """The torch backend records a graph in eager calls unless told not to."""
    if keras.backend.backend() == "torch":
        import torch

        return torch.no_grad()
    return contextlib.nullcontext()


def _compile(function):
    """`function` compiled once per input shape: jax.jit on JAX, whose eager mode
    compiles every operation separately; tf.function on TensorFlow, whose eager
    pass spent 1.7x the epoch's steps in the demo (a float-rounding change only:
    the end-to-end reference was regenerated for it). PyTorch runs it eagerly."""
    if keras.backend.backend() == "jax":
        import jax

        return jax.jit(function)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.function(function)
    return function


def _to_numpy(arrays):
    """Host float64 copies of a list of backend arrays (on JAX, one transfer for all)."""
    if keras.backend.backend() == "jax":
        import jax

        arrays = jax.device_get(arrays)
    return [keras.ops.convert_to_numpy(a).astype(np.float64) for a in arrays]


def _accumulate(sums, shifts, means, variances, count):
    """The running sums plus one batch of `count` images, on the device: per layer
    sum n_b (mu_b - c) and sum n_b (var_b + (mu_b - c)^2), around the layer's
    shift c (its moving mean before the pass), so that float32 sums do not cancel
    where a mean is large against its spread."""
    first, second = sums
    count = keras.ops.cast(count, "float32")
    centred = [keras.ops.cast(m, "float32") - c for m, c in zip(means, shifts)]
    first = [s + count * d for s, d in zip(first, centred)]
    second = [s + count * (keras.ops.cast(v, "float32") + d * d)
              for s, v, d in zip(second, variances, centred)]
    return first, second


class BatchStatistics:
    """Adds each trainable batch norm's batch mean and variance of a batch, weighted
    by its size, to running sums kept on the device, in one compiled call.

    A stateless training-mode forward (`Layer.stateless_call`): the batch norms'
    updated moving statistics come back as outputs instead of being assigned,
    and with momentum 0 they are the batch's own statistics. Compiled once per
    batch shape (`_compile`) and reused for as long as this object lives (one
    run). Call it inside `_statistics_mode` only: momentum and dropout are read
    when a shape is first traced.

    Args:
        model: keras.Model.
    """

    def __init__(self, model):
        self.model = model
        norms = _trainable_norms(model)
        position = {id(v): i for i, v in enumerate(model.non_trainable_variables)}
        self._means = [position[id(bn.moving_mean)] for bn in norms]
        self._variances = [position[id(bn.moving_variance)] for bn in norms]
        self._function = _compile(self._forward)

    def _forward(self, trainable, non_trainable, images, sums, shifts):
        _, updated = self.model.stateless_call(trainable, non_trainable, images, training=True)
        means = [updated[i] for i in self._means]
        variances = [updated[i] for i in self._variances]
        return _accumulate(sums, shifts, means, variances, keras.ops.shape(images)[0])

    def __call__(self, images, sums, shifts):
        """`sums` (two lists of backend arrays) plus the statistics of `images`."""
        values = [v.value for v in self.model.trainable_variables]
        states = [v.value for v in self.model.non_trainable_variables]
        with _no_grad():
            return self._function(values, states, images, sums, shifts)


def _eager_statistics(model, norms):
    """The reference: an eager training-mode call, then the norms' moving
    statistics (which momentum 0 makes the batch's), added to the sums eagerly."""
    def statistics(images, sums, shifts):
        with _no_grad():
            model(images, training=True)
            return _accumulate(sums, shifts, [bn.moving_mean for bn in norms],
                               [bn.moving_variance for bn in norms], len(images))

    return statistics


def recompute_bn_statistics(model, batches, compiled=None):
    """Sets every trainable batch norm's moving statistics to their population values.

    Runs the model in training mode (batch statistics, so each layer sees
    what it sees in training) without dropout over `batches`, and pools the
    per-batch means and variances weighted by the batches' sizes n_b (a smaller
    last batch counts for its images only): with N = sum n_b,
    mean = sum n_b mu_b / N, variance = sum n_b (var_b + mu_b^2) / N - mean^2,
    the mean and variance over all N images. The sums stay on the device and
    come to the host once per pass. Frozen batch norms are left alone.

    Args:
        model: keras.Model.
        batches: sequence of (images, masks) or of images, e.g. an ArraySequence.
        compiled: BatchStatistics or None. The compiled forward to reuse across
            calls (one per run: each batch shape compiles once); None builds one.
            False runs the model eagerly, operation by operation (the reference).

    Returns:
        int. The number of batch-norm layers updated.
    """
    with _statistics_mode(model) as norms:
        if not norms:
            return 0
        # Copies on the device: the eager pass overwrites the variables.
        shifts = [keras.ops.copy(bn.moving_mean) for bn in norms]
        if compiled is False:
            statistics = _eager_statistics(model, norms)
        else:
            statistics = compiled or BatchStatistics(model)
        sums = ([keras.ops.zeros_like(c) for c in shifts], [keras.ops.zeros_like(c) for c in shifts])
        total = 0
        for index in range(len(batches)):
            images = batches[index]
            images = images[0] if isinstance(images, tuple) else images
            # Asynchronous on JAX: the next batch is read while this one runs.
            sums = statistics(images, sums, shifts)
            total += len(images)
    if total == 0:
        raise ValueError("recompute_bn_statistics needs at least one batch")
    host = _to_numpy(list(sums[0]) + list(sums[1]) + shifts)  # the one transfer of the pass
    layers = len(norms)
    first, second, shifts = host[:layers], host[layers:2 * layers], host[2 * layers:]
    for bn, shift, centred, squares in zip(norms, shifts, first, second):
        offset = centred / total
        variance = np.maximum(squares / total - offset * offset, 0.0)
        bn.moving_mean.assign((shift + offset).astype(bn.moving_mean.dtype))
        bn.moving_variance.assign(variance.astype(bn.moving_variance.dtype))
    return len(norms)
