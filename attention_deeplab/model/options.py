"""The model's options as JSON-able facts: presets, atrous rates, input-shape rules.

Free of Keras, so command lines can offer the choices without loading a backend.
"""

# A width multiplier on every channel count and the number of middle-flow units.
# `tiny` keeps every part of the network (BN, attention, aggregation) for fast tests.
PRESETS = {
    "full": {"width": 1.0, "middle_units": 16},
    "tiny": {"width": 0.125, "middle_units": 2},
}
ATROUS_RATES = {16: (6, 12, 18), 8: (12, 24, 36)}  # paper
OPTION_DEFAULTS = {"input_shape": [256, 256, 3], "preset": "full", "attention": True,
                   "output_stride": 16}


def check_input_shape(input_shape, output_stride):
    """The input shape as a tuple of ints; its sides must be multiples of `output_stride`."""
    shape = tuple(input_shape)
    if len(shape) != 3 or any(s is None or int(s) < 1 for s in shape):
        raise ValueError(f"input_shape must be (height, width, channels), got {input_shape}")
    if shape[0] % output_stride or shape[1] % output_stride:
        raise ValueError(
            f"input_shape {shape}: height and width must be multiples of the output "
            f"stride OS={output_stride}")
    return tuple(int(s) for s in shape)


def model_options(input_shape=(256, 256, 3), preset="full", attention=True, output_stride=16):
    """The model's options as a JSON-able dict, as training stores them in config.json.

    Args:
        input_shape: tuple of 3 ints. (height, width, channels). Defaults to
            (256, 256, 3).
        preset: str. `"full"` or `"tiny"`. Defaults to "full".
        attention: bool. The paper's attention head. Defaults to True.
        output_stride: int. 16 or 8. Defaults to 16.

    Returns:
        `{"input_shape": [H, W, C], "preset": ..., "attention": ..., "output_stride": ...}`.
    """
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {preset!r}")
    if output_stride not in ATROUS_RATES:
        raise ValueError(f"output_stride must be 16 or 8, got {output_stride!r}")
    return {"input_shape": list(check_input_shape(input_shape, output_stride)),
            "preset": str(preset), "attention": bool(attention),
            "output_stride": int(output_stride)}
