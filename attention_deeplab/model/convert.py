"""Converting the authors' Keras-2 checkpoints into Keras 3 `.keras` models."""
import os

from attention_deeplab.model.deeplab import build_from_options, model_options
from attention_deeplab.model.keras2_h5 import saved_input_shape
from attention_deeplab.model.weights import detect_format, load_weights_into


def convert_checkpoint(source, destination, input_shape=None, preset="full", attention=True,
                       output_stride=16):
    """Writes an authors' checkpoint (Keras-2 HDF5, loaded by order) as a `.keras` model.

    Args:
        source: str or PathLike. The authors' file, e.g. `weight_isic18_deeplab_v3pa`.
        destination: str or PathLike. The `.keras` file to write.
        input_shape: tuple of 3 ints or None. None: the shape stored in a whole-model
            file, else (256, 256, 3) as the authors trained. Defaults to None.
        preset: str. `"full"` or `"tiny"`. Defaults to "full".
        attention: bool. Whether the checkpoint has the attention head. Defaults to True.
        output_stride: int. 16 or 8. Defaults to 16.

    Returns:
        The options dict of the written model (see `model_options`).
    """
    source, destination = os.fspath(source), os.fspath(destination)
    if not destination.endswith(".keras"):
        raise ValueError(f"destination {destination!r} must end with .keras")
    if detect_format(source) != "keras2_h5":
        raise ValueError(f"{source!r} is not a Keras-2 HDF5 checkpoint (the authors' format)")
    if input_shape is None:
        input_shape = saved_input_shape(source) or (256, 256, 3)
    options = model_options(input_shape=input_shape, preset=preset, attention=attention,
                            output_stride=output_stride)
    model = build_from_options(options)
    mode = load_weights_into(model, source)
    if mode != "keras2_h5:order":
        raise ValueError(f"{source!r} does not match the network built with {options} layer "
                         "for layer; check --input-size, --preset and --no-attention")
    model.save(destination)
    return options
