"""An exported ONNX model behind the two methods prediction calls on a Keras model.

Imports only numpy and onnxruntime, so `Predict_Skin.py --model model.onnx`
runs without TensorFlow or Keras (requirements-inference.txt).
"""
from pathlib import Path

import numpy as np


class OnnxModel:
    """`input_shape` and `predict_on_batch` of a Keras model, served by onnxruntime.

    Args:
        path: str or Path. An ``.onnx`` file written by Export_Skin.py.
        threads: int or None. onnxruntime's intra-op threads (None: its default).

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is not a one-input image model onnxruntime can load.
    """

    def __init__(self, path, threads=None):
        import onnxruntime  # the one runtime this path needs

        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"--model {path}: no such file")
        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = int(threads)
        try:
            self.session = onnxruntime.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # onnxruntime raises its own, unexported, classes
            raise ValueError(f"--model {path}: not a model onnxruntime can load ({error})") \
                from error
        inputs = self.session.get_inputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 4:
            raise ValueError(f"--model {path}: expected one B x H x W x 3 input")
        self.input_name = inputs[0].name
        # None where the file leaves a dimension free (the batch), as Keras reports it.
        self.input_shape = tuple(d if isinstance(d, int) else None for d in inputs[0].shape)

    def predict_on_batch(self, batch):
        """The model's outputs for one float32 batch, B x H x W x 1."""
        feed = {self.input_name: np.ascontiguousarray(batch, dtype=np.float32)}
        return self.session.run(None, feed)[0]
