"""How far two correct float32 computations of a network's probabilities may differ.

Another CPU, thread count, oneDNN setting or backend sums the same terms in
another order. A float32 sum of K terms, in any order, is within
gamma_K * sum|terms| of the exact sum, gamma_K = K u / (1 - K u), with u = 2^-24
the unit roundoff (Higham, Accuracy and Stability of Numerical Algorithms,
eq. 4.4), so two orders differ by at most 2 gamma_K ~ 2 K u relative to the
terms' magnitude. Along the network these relative errors add, to first order,
over the layers' sums: at most 2 u * sum over layers of K_l, where K_l is a
layer's fan-in (kernel height x width x input channels; summing every layer,
branches included, only overestimates the deepest path's). Where cancellation
makes a sum small against its terms the relative error grows, so the logit's
error is taken relative to max(1, |logit|), the largest logit magnitude in the
output. The sigmoid's slope is at most 1/4, so a probability moves by at most

    bound = 1/4 * 2 u * sum_l K_l * max(1, max |logit|)

A bug (a wrong weight, layer or resize) moves probabilities by far more.
"""
import numpy as np

UNIT_ROUNDOFF = 2.0 ** -24


def summed_fan_in(model):
    """Sum over the model's convolution and dense layers of their fan-in."""
    total = 0
    for layer in _all_layers(model):
        kernel = getattr(layer, "kernel", None)
        if kernel is None and hasattr(layer, "depthwise_kernel"):
            kernel = layer.depthwise_kernel
        if kernel is not None:
            shape = tuple(kernel.shape)
            # Depthwise kernels (kh, kw, C, multiplier) sum kh * kw terms per output.
            per_output = shape[:2] if hasattr(layer, "depthwise_kernel") else shape[:-1]
            total += int(np.prod(per_output))
    return total


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _all_layers(layer)


def probability_bound(fan_in, probabilities):
    """The float32 bound above, with the logits' magnitude read from `probabilities`."""
    p = np.clip(np.asarray(probabilities, np.float64), 1e-7, 1 - 1e-7)
    largest_logit = float(np.abs(np.log(p) - np.log1p(-p)).max())
    return 0.25 * 2 * UNIT_ROUNDOFF * fan_in * max(1.0, largest_logit)
