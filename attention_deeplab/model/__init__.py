"""Attention Deeplabv3+: aligned Xception backbone, attention head, weight loading."""
from attention_deeplab.model.deeplab import (
    PRESETS, Deeplabv3pa, build_from_options, build_network, compile_model, model_options)
from attention_deeplab.model.layers import BilinearResize
from attention_deeplab.model.weights import load_pascal_voc, load_weights_into

__all__ = ["PRESETS", "BilinearResize", "Deeplabv3pa", "build_from_options", "build_network",
           "compile_model", "load_pascal_voc", "load_weights_into", "model_options"]
