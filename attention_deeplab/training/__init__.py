"""Training with the paper's recipe: resumable runs, precise batch-norm statistics, data parallel.

`train` is what Train_Skin_Lesion_Segmentation.py calls; a run folder's layout
is described in `run_folder.py`, `attention_deeplab.run_config` and
`attention_deeplab.locations`.
"""
from attention_deeplab.errors import TrainingError
from attention_deeplab.training.entry import train
from attention_deeplab.training.precise_bn import recompute_bn_statistics

__all__ = ["TrainingError", "recompute_bn_statistics", "train"]
