"""Datasets: preparation of ISIC 2017/2018 and PH2, synthetic look-alikes, and the batch loader.

``prepare_dataset`` turns a published dataset folder into the uint8 arrays and
``split.json`` described in ARCHITECTURE.md; ``synthetic.generate`` writes
dermoscopy-like stand-ins in each published layout.
"""
from attention_deeplab.data.prepare import prepare_dataset

__all__ = ["prepare_dataset"]
