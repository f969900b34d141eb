"""Attention Deeplabv3+ (Azad et al., ECCV 2020 workshops) for skin lesion segmentation."""

__version__ = "1.0.0"
