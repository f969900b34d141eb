"""Evaluation of a trained model on a prepared split: scores (`evaluate`), what is
reported (`report`: metrics.json, per_image.csv, the table) and figures (`figures`)."""
from attention_deeplab.evaluation.evaluator import evaluate
from attention_deeplab.evaluation.scores import score

__all__ = ["evaluate", "score"]
