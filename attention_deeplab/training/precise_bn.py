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
    """`function` compiled once per input shape on JAX (jax.jit), whose eager mode
    compiles every operation separately. TensorFlow and PyTorch run it eagerly, as
    before: a tf.function rounded the statistics differently (the end-to-end
    reference's probabilities moved by 4e-5), and their eager operations need no
    compilation."""
    if keras.backend.backend() == "jax":
        import jax

        return jax.jit(function)
    return function


def _to_numpy(arrays):
    """Host float64 copies of a list of backend arrays (on JAX, one transfer for all)."""
    if keras.backend.backend() == "jax":
        import jax

        arrays = jax.device_get(arrays)
    return [keras.ops.convert_to_numpy(a).astype(np.float64) for a in arrays]


class BatchStatistics:
    """Each trainable batch norm's batch mean and variance of a batch, in one compiled call.

    A stateless training-mode forward (`Layer.stateless_call`): the batch norms'
    updated moving statistics come back as outputs instead of being assigned,
    and with momentum 0 they are the batch's own statistics. On JAX it is
    compiled once per batch shape and reused for as long as this object lives
    (one run), where the eager pass compiled each operation separately.
    Call it inside `_statistics_mode` only: momentum and dropout are read when a
    shape is first traced.

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

    def _forward(self, trainable, non_trainable, images):
        _, updated = self.model.stateless_call(trainable, non_trainable, images, training=True)
        return [updated[i] for i in self._means] + [updated[i] for i in self._variances]

    def __call__(self, images):
        """The statistics of `images` as backend arrays: the means, then the variances."""
        values = [v.value for v in self.model.trainable_variables]
        states = [v.value for v in self.model.non_trainable_variables]
        with _no_grad():
            return self._function(values, states, images)


def _eager_statistics(model, norms):
    """Today's reference: an eager training-mode call, then the norms' moving
    statistics (which momentum 0 makes the batch's)."""
    def statistics(images):
        with _no_grad():
            model(images, training=True)
        return [bn.moving_mean for bn in norms] + [bn.moving_variance for bn in norms]

    return statistics


def recompute_bn_statistics(model, batches, compiled=None):
    """Sets every trainable batch norm's moving statistics to their population values.

    Runs the model in training mode (batch statistics, so each layer sees
    what it sees in training) without dropout over `batches`, and pools the
    per-batch means and variances with equal weights: mean = E[mu_b],
    variance = E[var_b] + Var[mu_b]. Frozen batch norms are left alone.

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
        if compiled is False:
            statistics = _eager_statistics(model, norms)
        else:
            statistics = compiled or BatchStatistics(model)
        sums, count, pending = None, 0, None
        for index in range(len(batches)):
            images = batches[index]
            images = images[0] if isinstance(images, tuple) else images
            result = statistics(images)
            if compiled is False:  # the variables themselves: read before the next call
                result = _to_numpy(result)
            # JAX runs a compiled call asynchronously: the next batch is read meanwhile.
            if pending is not None:
                sums = _accumulate(sums, _to_numpy(pending), len(norms))
            pending, count = result, count + 1
    if count == 0:
        raise ValueError("recompute_bn_statistics needs at least one batch")
    sums = _accumulate(sums, _to_numpy(pending), len(norms))
    for i, bn in enumerate(norms):
        mean = sums[0][i] / count
        variance = sums[1][i] / count + np.maximum(sums[2][i] / count - mean * mean, 0.0)
        bn.moving_mean.assign(mean.astype(bn.moving_mean.dtype))
        bn.moving_variance.assign(variance.astype(bn.moving_variance.dtype))
    return len(norms)


def _accumulate(sums, statistics, layers):
    """Adds one batch's means, variances and squared means (float64) to the running sums."""
    means, variances = statistics[:layers], statistics[layers:]
    if sums is None:
        sums = [[np.zeros_like(m) for m in means] for _ in range(3)]
    for i, (mean, var) in enumerate(zip(means, variances)):
        sums[0][i] += mean
        sums[1][i] += var
        sums[2][i] += mean * mean
    return sums
