"""The aligned (modified) Xception-65 backbone of Deeplabv3+ (Chen et al., ECCV 2018).

Layer names and the block structure follow the original Keras code (bonlime's
keras-deeplab-v3-plus, on which Attention Deeplabv3+ was built), so the authors'
checkpoints load by order and the PASCAL VOC start loads by name.
"""
from keras import layers

BACKBONE_EPSILON = 1e-3  # Keras' default, kept by the original backbone


def explicit_padding(x, kernel_size, rate, name):
    """Pads by the effective kernel size, as TensorFlow-slim's `conv2d_same`.

    Without it a strided `same` convolution drifts by one pixel.

    Args:
        x: KerasTensor. NHWC input.
        kernel_size: int. Kernel size of the strided convolution that follows.
        rate: int. Its dilation rate.
        name: str. Name of the padding layer.

    Returns:
        The padded tensor (unchanged where no padding is needed).
    """
    effective = kernel_size + (kernel_size - 1) * (rate - 1)
    total = effective - 1
    begin, end = total // 2, total - total // 2
    if total == 0:
        return x
    return layers.ZeroPadding2D(((begin, end), (begin, end)), name=name)(x)


def separable_conv_bn(x, filters, prefix, stride=1, rate=1, depth_activation=False,
                      epsilon=BACKBONE_EPSILON):
    """Depthwise conv, BN, pointwise 1x1 conv, BN: the Xception separable block.

    Args:
        x: KerasTensor. NHWC input.
        filters: int. Filters of the pointwise convolution.
        prefix: str. Name prefix (`<prefix>_depthwise`, `<prefix>_pointwise_BN`, ...).
        stride: int. Stride of the depthwise convolution. Defaults to 1.
        rate: int. Dilation (atrous) rate of the depthwise convolution. Defaults to 1.
        depth_activation: bool. ReLU after each BN instead of one ReLU before the
            depthwise convolution. Defaults to False.
        epsilon: float. Batch-norm epsilon. Defaults to 1e-3.

    Returns:
        The output tensor.
    """
    padding = "same"
    if stride != 1:
        x = explicit_padding(x, 3, rate, name=f"{prefix}_pad")
        padding = "valid"
    if not depth_activation:
        x = layers.Activation("relu", name=f"{prefix}_relu")(x)
    x = layers.DepthwiseConv2D(3, strides=stride, dilation_rate=rate, padding=padding,
                               use_bias=False, name=f"{prefix}_depthwise")(x)
    x = layers.BatchNormalization(epsilon=epsilon, name=f"{prefix}_depthwise_BN")(x)
    if depth_activation:
        x = layers.Activation("relu", name=f"{prefix}_depthwise_relu")(x)
    x = layers.Conv2D(filters, 1, padding="same", use_bias=False,
                      name=f"{prefix}_pointwise")(x)
    x = layers.BatchNormalization(epsilon=epsilon, name=f"{prefix}_pointwise_BN")(x)
    if depth_activation:
        x = layers.Activation("relu", name=f"{prefix}_pointwise_relu")(x)
    return x


def xception_block(inputs, filters, prefix, shortcut, stride=1, rate=1,
                   depth_activation=False):
    """Three separable convs (the last strided) with a conv, identity or no shortcut.

    Args:
        inputs: KerasTensor. NHWC input.
        filters: tuple of 3 ints. Filters of the three separable convolutions.
        prefix: str. Block name, e.g. `middle_flow_unit_3`.
        shortcut: str. One of `"conv"` (strided 1x1 conv + BN), `"sum"` (identity)
            or `"none"`.
        stride: int. Stride of the last separable convolution. Defaults to 1.
        rate: int. Dilation rate of the separable convolutions. Defaults to 1.
        depth_activation: bool. See `separable_conv_bn`. Defaults to False.

    Returns:
        A tuple `(outputs, skip)`, `skip` being the tensor after the second
        separable convolution (the decoder's low-level features in entry block 2).
    """
    residual, skip = inputs, None
    for i in range(3):
        residual = separable_conv_bn(
            residual, filters[i], f"{prefix}_separable_conv{i + 1}",
            stride=stride if i == 2 else 1, rate=rate, depth_activation=depth_activation)
        if i == 1:
            skip = residual
    if shortcut == "conv":
        side = inputs
        if stride != 1:
            # A strided 1x1 conv needs no padding, and equals subsampling then a 1x1 conv;
            # done so because PyTorch 2.13's CPU backward of strided 1x1 convs on few
            # channels corrupts the heap (the tiny preset crashed on the torch backend).
            side = layers.MaxPooling2D(pool_size=1, strides=stride,
                                       name=f"{prefix}_shortcut_subsample")(side)
        side = layers.Conv2D(filters[-1], 1, padding="same", use_bias=False,
                             name=f"{prefix}_shortcut")(side)
        side = layers.BatchNormalization(epsilon=BACKBONE_EPSILON,
                                         name=f"{prefix}_shortcut_BN")(side)
        outputs = layers.Add(name=f"{prefix}_add")([residual, side])
    elif shortcut == "sum":
        outputs = layers.Add(name=f"{prefix}_add")([residual, inputs])
    elif shortcut == "none":
        outputs = residual
    else:
        raise ValueError(f"shortcut must be 'conv', 'sum' or 'none', got {shortcut!r}")
    return outputs, skip


def aligned_xception(inputs, output_stride=16, width=lambda n: n, middle_units=16):
    """The aligned Xception-65 feature extractor.

    Args:
        inputs: KerasTensor. NHWC image input.
        output_stride: int. 16 or 8: ratio of input to feature-map size.
            Defaults to 16.
        width: callable. Maps the paper's channel count to this preset's.
            Defaults to the identity (the full network).
        middle_units: int. Number of middle-flow units; 16 in the paper.

    Returns:
        A tuple `(features, low_level)`: the exit-flow output at 1/output_stride
        and entry block 2's features at 1/4 for the decoder.
    """
    if output_stride == 8:
        entry3_stride, middle_rate, exit_rates = 1, 2, (2, 4)
    elif output_stride == 16:
        entry3_stride, middle_rate, exit_rates = 2, 1, (1, 2)
    else:
        raise ValueError(f"output_stride must be 16 or 8, got {output_stride!r}")

    # Entry flow
    x = layers.Conv2D(width(32), 3, strides=2, padding="same", use_bias=False,
                      name="entry_flow_conv1_1")(inputs)
    x = layers.BatchNormalization(epsilon=BACKBONE_EPSILON, name="entry_flow_conv1_1_BN")(x)
    x = layers.Activation("relu", name="entry_flow_conv1_1_relu")(x)
    x = layers.Conv2D(width(64), 3, padding="same", use_bias=False,
                      name="entry_flow_conv1_2")(x)
    x = layers.BatchNormalization(epsilon=BACKBONE_EPSILON, name="entry_flow_conv1_2_BN")(x)
    x = layers.Activation("relu", name="entry_flow_conv1_2_relu")(x)
    x, _ = xception_block(x, [width(128)] * 3, "entry_flow_block1", "conv", stride=2)
    x, low_level = xception_block(x, [width(256)] * 3, "entry_flow_block2", "conv", stride=2)
    x, _ = xception_block(x, [width(728)] * 3, "entry_flow_block3", "conv",
                          stride=entry3_stride)

    # Middle flow
    for unit in range(1, middle_units + 1):
        x, _ = xception_block(x, [width(728)] * 3, f"middle_flow_unit_{unit}", "sum",
                              rate=middle_rate)

    # Exit flow
    x, _ = xception_block(x, [width(728), width(1024), width(1024)], "exit_flow_block1",
                          "conv", rate=exit_rates[0])
    x, _ = xception_block(x, [width(1536), width(1536), width(2048)], "exit_flow_block2",
                          "none", rate=exit_rates[1], depth_activation=True)
    return x, low_level


__all__ = ["aligned_xception", "separable_conv_bn", "xception_block", "explicit_padding"]
