"""A trained run exported for deployment (ONNX, TF SavedModel, TFLite) and checked.

Called by ``Export_Skin.py``. The export is Keras 3's own ``model.export``, in
float32; each exported file is then run in its own runtime on a few test images
and compared with the Keras model, and a larger difference than the format's
bound fails the export with that number.
"""
import contextlib
from pathlib import Path

import numpy as np

from attention_deeplab.locations import resolve_run
from attention_deeplab.normalization import normalize_images

# Keras's format name, the fixed batch (None: free) and the largest difference allowed.
FORMATS = {"onnx": ("onnx", None, 1e-4), "savedmodel": ("tf_saved_model", None, 1e-4),
           # The TFLite interpreter allocates its tensors for one shape: a fixed batch of 1.
           "tflite": ("litert", 1, 1e-3)}


class ExportCheckError(ValueError):
    """The exported model's outputs differ from the Keras model's beyond the format's bound."""


@contextlib.contextmanager
def _float32_policy():
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float32")
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def float32_model(run_dir=None, weights=None):
    """The run's model rebuilt in float32, its weights loaded.

    A mixed-precision run stores float32 variables, so building under the float32
    policy and loading them casts the network back to float32 for export.
    """
    from attention_deeplab.inference.model import build_inference_model

    locations = resolve_run(run_dir=run_dir, weights=weights, outputs_in_run=False)
    with _float32_policy():
        return build_inference_model(locations)


def check_images(size, count=4, seed=0):
    """Normalised float32 test images: smooth dark blobs on skin tones with noise."""
    rng = np.random.default_rng(seed)
    rows, columns = np.mgrid[0:size[0], 0:size[1]] / np.array(size).reshape(2, 1, 1)
    images = []
    for _ in range(count):
        centre, radius = rng.uniform(0.3, 0.7, 2), rng.uniform(0.1, 0.3)
        blob = np.hypot(rows - centre[0], columns - centre[1]) < radius
        skin = rng.uniform(150, 220, 3) * (1 - 0.5 * blob[..., None])
        images.append(np.clip(skin + rng.normal(0, 12, skin.shape), 0, 255))
    return normalize_images(np.stack(images).astype(np.uint8))


def export_model(model, fmt, out):
    """Writes `model` to `out` in format `fmt` (a key of FORMATS), float32, fixed H x W."""
    import keras

    keras_format, batch, _ = FORMATS[fmt]
    spec = keras.InputSpec(shape=(batch, *model.input_shape[1:]), dtype="float32")
    model.export(str(out), format=keras_format, input_signature=[spec], verbose=False)


def run_exported(fmt, path, images):
    """The exported model's probabilities for `images`, in the format's own runtime."""
    if fmt == "onnx":
        from attention_deeplab.inference.onnx_model import OnnxModel

        return OnnxModel(path).predict_on_batch(images)
    if fmt == "savedmodel":
        import tensorflow as tf

        loaded = tf.saved_model.load(str(path))  # held: its functions need its variables alive
        return loaded.serve(tf.constant(images)).numpy()
    return np.concatenate([_run_tflite(path, image[None]) for image in images])


def _run_tflite(path, image):
    # LiteRT's interpreter: TensorFlow 2.21 no longer ships tf.lite.Interpreter.
    from ai_edge_litert.interpreter import Interpreter
    interpreter = Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], image)
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


def check_export(model, fmt, path, images):
    """The largest absolute difference between the Keras model and the exported file.

    Raises:
        ExportCheckError: the difference exceeds the format's bound (the message gives both).
    """
    expected = np.asarray(model.predict_on_batch(images), np.float32)
    got = np.asarray(run_exported(fmt, path, images), np.float32).reshape(expected.shape)
    difference = float(np.max(np.abs(got - expected)))
    bound = FORMATS[fmt][2]
    if not difference <= bound:  # also fails on NaN
        raise ExportCheckError(f"{path}: the {fmt} export differs from the Keras model by "
                               f"{difference:.3g}, more than {bound:g}")
    return difference


def export_run(run_dir=None, fmt="onnx", out=None, weights=None, n_images=4):
    """Exports a run's model to `out` and checks it; returns {"out", "format", "max_difference"}.

    Raises:
        ValueError: unknown format, or `out` lacks the suffix the format needs.
        ExportCheckError: the exported model disagrees with the Keras model.
    """
    if fmt not in FORMATS:
        raise ValueError(f"--format must be one of {sorted(FORMATS)}, got {fmt!r}")
    out = Path(out)
    suffix = {"onnx": ".onnx", "tflite": ".tflite"}.get(fmt)
    if suffix and out.suffix != suffix:
        raise ValueError(f"--out {out}: a {fmt} file must end with {suffix}")
    out.parent.mkdir(parents=True, exist_ok=True)
    model = float32_model(run_dir, weights)
    export_model(model, fmt, out)
    images = check_images(model.input_shape[1:3], n_images)
    difference = check_export(model, fmt, out, images)
    return {"out": str(out), "format": fmt, "max_difference": difference}
