"""Attention Deeplabv3+: aligned Xception backbone, attention head, weight loading.

The options (`model_options`, `PRESETS`) load without Keras; the builders and
loaders load it on first use, so a command line's `--help` stays instant.
"""
import importlib

from attention_deeplab.model.options import PRESETS, model_options

_LAZY = {"Deeplabv3pa": "deeplab", "build_from_options": "deeplab", "build_network": "deeplab",
         "compile_model": "deeplab", "BilinearResize": "layers", "load_pascal_voc": "weights",
         "load_weights_into": "weights"}

__all__ = ["PRESETS", "model_options", *_LAZY]


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
