"""Inference: probability maps from arrays (`arrays`), image files segmented at their own
size (`images`, behind Predict_Skin.py), mask and overlay files (`overlays`), and the
trained model rebuilt from its run (`model`), or several runs' mean (`ensemble`)."""
from attention_deeplab.inference.arrays import predict_array, predict_batch
from attention_deeplab.inference.ensemble import Ensemble, load_predictor
from attention_deeplab.inference.model import build_inference_model, load_inference_model

__all__ = ["Ensemble", "build_inference_model", "load_inference_model", "load_predictor",
           "predict_array", "predict_batch"]
