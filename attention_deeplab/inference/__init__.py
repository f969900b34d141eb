"""Inference: probability maps from arrays (`arrays`), image files segmented at their own
size (`images`, behind Predict_Skin.py), mask and overlay files (`overlays`), and the
trained model rebuilt from its run (`model`)."""
from attention_deeplab.inference.arrays import predict_array, predict_batch
from attention_deeplab.inference.model import build_inference_model, load_inference_model

__all__ = ["build_inference_model", "load_inference_model", "predict_array", "predict_batch"]
