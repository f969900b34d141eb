"""Command-line arguments that several scripts share, so each is defined once.

Float options take `finite_float` (or a narrower type built on it): `float("nan")`
and `float("inf")` parse, and NaN passes every `<`/`>` range check (each comparison
is False), so a NaN or infinite value is refused here with argparse's one-line error.
"""
import argparse
import math

from attention_deeplab.datasets import DATASETS, DEFAULT_DATASET
from attention_deeplab.model.options import PRESETS


def add_dataset_argument(parser, default=DEFAULT_DATASET):
    """--dataset, which picks the default data and run folders (`attention_deeplab.datasets`)."""
    shown = f"; default {DEFAULT_DATASET}" if default is None else f" (default {default})"
    parser.add_argument("--dataset", choices=sorted(DATASETS), default=default,
                        help="picks the default --data-dir and --run-dir" + shown)
    return parser


def add_model_override_arguments(parser):
    """--preset, --no-attention and --output-stride, as Evaluate_Skin.py and
    Predict_Skin.py take them: unset, the run's (or the full network's) options hold."""
    parser.add_argument("--preset", choices=sorted(PRESETS), help="override the model preset")
    parser.add_argument("--no-attention", dest="attention", action="store_const", const=False,
                        help="the plain Deeplabv3+ (ablation) weights")
    parser.add_argument("--output-stride", type=int, choices=[16, 8])
    return parser


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
    """A finite float above zero (a learning rate)."""
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
