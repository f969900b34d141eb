"""Versions of the software a file was made with, recorded beside what it made."""
import importlib
import platform

import numpy as np

import attention_deeplab


def versions(*modules):
    """Python's, NumPy's and this package's versions, plus those of `modules` that are installed.

    Args:
        *modules: str. Import names, e.g. "PIL", "keras", "tensorflow".

    Returns:
        dict: name -> version string (PIL is recorded as "pillow").
    """
    found = {"python": platform.python_version(), "numpy": np.__version__,
             "attention_deeplab": attention_deeplab.__version__}
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        found["pillow" if name == "PIL" else name] = module.__version__
    return found
