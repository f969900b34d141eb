"""The Attention Deeplabv3+ builder (`Deeplabv3pa`); its options live in `options.py`."""
import os

import keras
from keras import layers

from attention_deeplab.model.aspp import (
    HEAD_EPSILON, BRANCH_NAMES, aspp_branches, channel_attention, multi_level_aggregation,
    plain_fusion, refine_branch)
from attention_deeplab.model.backbone import aligned_xception, separable_conv_bn
from attention_deeplab.model.layers import BilinearResize
from attention_deeplab.model.options import (
    ATROUS_RATES, OPTION_DEFAULTS, PRESETS, check_input_shape, model_options)

def _width(multiplier):
    if multiplier == 1.0:
        return lambda channels: channels
    return lambda channels: max(2, int(round(channels * multiplier)))


def decoder(x, low_level, output_size, width, classes):
    """The Deeplabv3+ decoder with the original's extra conv head and sigmoid output.

    Args:
        x: KerasTensor. Fused ASPP features at 1/OS.
        low_level: KerasTensor. Entry block 2 features at 1/4.
        output_size: tuple of 2 ints. The input's height and width.
        width: callable. Maps the paper's channel count to this preset's.
        classes: int. Output channels, each a sigmoid probability.

    Returns:
        The float32 probability map at the input size.
    """
    # Decoder
    x = BilinearResize(tuple(low_level.shape[1:3]), name="decoder_upsample")(x)
    skip = layers.Conv2D(width(48), 1, padding="same", use_bias=False,  # paper: 48
                         name="feature_projection0")(low_level)
    skip = layers.BatchNormalization(epsilon=HEAD_EPSILON, name="feature_projection0_BN")(skip)
    skip = layers.Activation("relu", name="feature_projection0_relu")(skip)
    x = layers.Concatenate(name="decoder_concat")([x, skip])
    for block in ("decoder_conv0", "decoder_conv1"):
        x = separable_conv_bn(x, width(256), block, depth_activation=True, epsilon=HEAD_EPSILON)
    # The original's head: 64, 64 and 2 filters, then a 1x1 sigmoid convolution.
    for i, filters in enumerate((width(64), width(64), 2)):
        x = layers.Conv2D(filters, 3, activation="relu", padding="same",
                          kernel_initializer="he_normal", name=f"decoder_head_conv{i + 1}")(x)
    # float32 so that mixed-precision models still output float32 probabilities.
    x = layers.Conv2D(classes, 1, activation="sigmoid", dtype="float32", name="output_conv")(x)
    return BilinearResize(output_size, dtype="float32", name="output_resize")(x)


def build_network(inputs, classes=1, output_stride=16, attention=True, preset="full"):
    """Builds the (uncompiled, randomly initialised) Attention Deeplabv3+ graph.

    Args:
        inputs: KerasTensor. NHWC image input of static size.
        classes: int. Output channels. Defaults to 1 (lesion probability).
        output_stride: int. 16 or 8. Defaults to 16.
        attention: bool. The paper's refinement, channel attention and multi-level
            aggregation; False gives plain Deeplabv3+ fusion. Defaults to True.
        preset: str. `"full"` (the paper's network) or `"tiny"`. Defaults to "full".

    Returns:
        An uncompiled `keras.Model`.
    """
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {preset!r}")
    width = _width(PRESETS[preset]["width"])
    features, low_level = aligned_xception(
        inputs, output_stride, width=width, middle_units=PRESETS[preset]["middle_units"])

    # ASPP
    branches = aspp_branches(features, width(256), ATROUS_RATES[output_stride])
    if attention:
        # Channel attention over refined branches, then multi-level aggregation
        branches = [refine_branch(b, width(256), f"{name}_refine")
                    for name, b in zip(BRANCH_NAMES, branches)]
        branches = channel_attention(branches, hidden=width(32))
        x = multi_level_aggregation(branches, width(256))
    else:
        x = plain_fusion(branches, width(256))

    outputs = decoder(x, low_level, tuple(inputs.shape[1:3]), width, classes)
    suffix = "" if attention else "_no_attention"
    return keras.Model(inputs, outputs, name=f"attention_deeplabv3plus{suffix}")


def compile_model(model, learning_rate=1e-4, metrics=("accuracy",)):
    """Compiles as the original: Adam 1e-4, binary cross-entropy, accuracy.

    Args:
        model: keras.Model. The network.
        learning_rate: float. Adam's learning rate. Defaults to 1e-4 (paper).
        metrics: sequence. Metrics to report; training adds pooled Dice.
            Defaults to ("accuracy",) (the original's).

    Returns:
        The same model, compiled.
    """
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
                  loss="binary_crossentropy", metrics=list(metrics))
    return model


def Deeplabv3pa(weights="pascal_voc", input_tensor=None, input_shape=(256, 256, 3), classes=1,
                OS=16, attention=True, preset="full", compile=True):  # noqa: N802 (paper name)
    """Attention Deeplabv3+ (Azad et al., ECCV 2020 workshops), compiled as the original.

    Args:
        weights: None, `"pascal_voc"` or a path. None: random initialisation.
            `"pascal_voc"`: the Deeplabv3+ PASCAL VOC start, fetched with
            `keras.utils.get_file` and loaded by layer name (full preset only). A path:
            this project's `.weights.h5`/`.keras`, an authors' Keras-2 HDF5 checkpoint
            or a local PASCAL VOC file (see `load_weights_into`). Defaults to
            "pascal_voc", as the original.
        input_tensor: KerasTensor or None. Optional model input; its shape then
            replaces `input_shape`. Defaults to None.
        input_shape: tuple of 3 ints. (height, width, channels), height and width
            multiples of `OS`. Defaults to (256, 256, 3).
        classes: int. Sigmoid output channels. Defaults to 1.
        OS: int. Output stride, 16 or 8. Defaults to 16.
        attention: bool. False gives the plain Deeplabv3+ fusion (the ablation).
            Defaults to True.
        preset: str. `"full"` or `"tiny"` (width 1/8, 2 middle units). Defaults to
            "full".
        compile: bool. Compile with Adam 1e-4 and binary cross-entropy. Defaults
            to True.

    Returns:
        A `keras.Model` mapping images min-max scaled to 0..255 per image (the
        original's `dataset_normalized`; see `data.loader.normalize_images`) to
        probabilities.
    """
    from attention_deeplab.model.weights import (
        fetch_pascal_voc, load_pascal_voc, load_weights_into)

    if OS not in ATROUS_RATES:
        raise ValueError(f"OS must be 16 or 8, got {OS!r}")
    if weights is not None and not isinstance(weights, (str, os.PathLike)):
        raise ValueError(f"weights must be None, 'pascal_voc' or a file path, got {weights!r}")
    pascal_voc = isinstance(weights, str) and weights == "pascal_voc"
    if weights is not None and not pascal_voc and not os.path.isfile(weights):
        raise FileNotFoundError(f"weights file {os.fspath(weights)!r} does not exist "
                                "(weights: None, 'pascal_voc' or a file path)")
    if pascal_voc and preset != "full":
        raise ValueError(f"weights='pascal_voc' needs preset='full' (got preset={preset!r}): "
                         "the PASCAL VOC start only fits the full network; use weights=None")
    # Fetched before building, so that a missing network fails fast.
    pascal_path = fetch_pascal_voc() if pascal_voc else None
    if input_tensor is not None:
        if not keras.backend.is_keras_tensor(input_tensor):
            raise ValueError("input_tensor must be a KerasTensor, e.g. keras.Input(...)")
        check_input_shape(input_tensor.shape[1:], OS)
        inputs = input_tensor
    else:
        inputs = keras.Input(shape=check_input_shape(input_shape, OS), name="image")
    model = build_network(inputs, classes=classes, output_stride=OS, attention=attention,
                          preset=preset)
    if pascal_path is not None:
        load_pascal_voc(model, pascal_path)
    elif weights is not None:
        load_weights_into(model, weights)
    return compile_model(model) if compile else model


def build_from_options(options, weights=None, compile=True):
    """Builds the model described by a `model_options` dict.

    Args:
        options: dict. As returned by `model_options`; missing keys take its defaults.
        weights: None or a path, as for `Deeplabv3pa`. Defaults to None.
        compile: bool. Compile the model. Defaults to True.

    Returns:
        A `keras.Model`.
    """
    unknown = sorted(set(options) - set(OPTION_DEFAULTS))
    if unknown:
        raise ValueError(f"unknown model option(s) {unknown}; known: {sorted(OPTION_DEFAULTS)}")
    resolved = model_options(**{**OPTION_DEFAULTS, **options})
    return Deeplabv3pa(weights=weights, input_shape=tuple(resolved["input_shape"]),
                       OS=resolved["output_stride"], attention=resolved["attention"],
                       preset=resolved["preset"], compile=compile)
