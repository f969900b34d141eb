"""Runs a script with only the deployment packages importable: `python no_keras.py SCRIPT ARGS`.

Importing TensorFlow, Keras, the other engines or the training stack's packages
raises ImportError, so a script that succeeds here needs none of them.
"""
import importlib.abc
import runpy
import sys

BLOCKED = ("keras", "tensorflow", "tf_keras", "jax", "jaxlib", "torch", "scipy", "tqdm",
           "sklearn", "skimage", "h5py", "matplotlib", "tf2onnx", "ai_edge_litert")


class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is blocked: this path must run without it")
        return None


if __name__ == "__main__":
    sys.meta_path.insert(0, Blocker())
    script, sys.argv = sys.argv[1], sys.argv[1:]
    runpy.run_path(script, run_name="__main__")
