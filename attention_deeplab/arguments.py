"""Argument types shared by the scripts' command lines.

`float("nan")` and `float("inf")` parse, and NaN passes every `<`/`>` range check
(each comparison is False), so float options go through these types: a NaN or
infinite value is then refused by argparse with its usual one-line error.
"""
import argparse
import math


def finite_float(text):
    """A float that is neither NaN nor infinite, for `type=` of an argparse option."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def positive_float(text):
    """A finite float above zero (a learning rate, a scale)."""
    value = finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text!r}")
    return value


def probability(text):
    """A finite float in [0, 1): a threshold on probabilities (lesion where p > it)."""
    value = finite_float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must lie in [0, 1), got {text!r}")
    return value
