"""Training with the paper's recipe: resumable runs, precise batch-norm statistics, data parallel.

`train` is what Train_Skin_Lesion_Segmentation.py calls; a run folder's layout
is described in `run_folder.py` and `attention_deeplab.runs`.
"""
from attention_deeplab.training.entry import train
from attention_deeplab.training.precise_bn import recompute_bn_statistics
from attention_deeplab.training.run_folder import TrainingError

__all__ = ["TrainingError", "recompute_bn_statistics", "train"]
