"""ASPP, branch refinement, channel attention and multi-level aggregation.

Azad et al., "Attention Deeplabv3+: Multi-level Context Attention Mechanism for
Skin Lesion Segmentation", ECCV 2020 workshops, sections 2.1-2.2.
"""
from keras import layers

from attention_deeplab.model.backbone import separable_conv_bn
from attention_deeplab.model.layers import BilinearResize

HEAD_EPSILON = 1e-5  # the original's ASPP and decoder BNs
BRANCH_NAMES = ("aspp0", "aspp1", "aspp2", "aspp3", "image_pooling")


def aspp_branches(x, filters=256, atrous_rates=(6, 12, 18)):
    """The five ASPP branches: 1x1 conv, three atrous separable convs, image pooling.

    Args:
        x: KerasTensor. Backbone features, NHWC with a known height and width.
        filters: int. Filters of each branch; 256 in the paper.
        atrous_rates: tuple of 3 ints. Rates of aspp1-3; (6, 12, 18) at OS 16.

    Returns:
        The list of branch outputs in the order of `BRANCH_NAMES`.
    """
    b0 = layers.Conv2D(filters, 1, padding="same", use_bias=False, name="aspp0")(x)
    b0 = layers.BatchNormalization(epsilon=HEAD_EPSILON, name="aspp0_BN")(b0)
    b0 = layers.Activation("relu", name="aspp0_activation")(b0)
    atrous = [separable_conv_bn(x, filters, f"aspp{i + 1}", rate=rate, depth_activation=True,
                                epsilon=HEAD_EPSILON)
              for i, rate in enumerate(atrous_rates)]
    # Image pooling: the average over the whole map (the original's AveragePooling2D
    # sized to the map), broadcast back by a resize as the original did.
    size = tuple(x.shape[1:3])
    b4 = layers.AveragePooling2D(pool_size=size, name="image_pooling_average")(x)
    b4 = layers.Conv2D(filters, 1, padding="same", use_bias=False, name="image_pooling")(b4)
    b4 = layers.BatchNormalization(epsilon=HEAD_EPSILON, name="image_pooling_BN")(b4)
    b4 = layers.Activation("relu", name="image_pooling_relu")(b4)
    b4 = BilinearResize(size, name="image_pooling_resize")(b4)
    return [b0, *atrous, b4]


def _refine_conv(filters, name):
    return layers.Conv2D(filters, 3, activation="relu", padding="same",
                         kernel_initializer="he_normal", name=name)


def refine_branch(x, filters, prefix, dropout=0.5):
    """Two 3x3 convs, dropout, concat with the branch, two more 3x3 convs.

    Args:
        x: KerasTensor. One ASPP branch.
        filters: int. Filters of each convolution; 256 in the paper.
        prefix: str. Name prefix, e.g. `aspp1_refine`.
        dropout: float. Dropout rate after the first two convs. Defaults to 0.5.

    Returns:
        The refined branch.
    """
    y = _refine_conv(filters, f"{prefix}_conv1")(x)
    y = _refine_conv(filters, f"{prefix}_conv2")(y)
    y = layers.Dropout(dropout, name=f"{prefix}_dropout")(y)
    y = layers.Concatenate(axis=-1, name=f"{prefix}_concat")([x, y])
    y = _refine_conv(filters, f"{prefix}_conv3")(y)
    return _refine_conv(filters, f"{prefix}_conv4")(y)


def channel_attention(branches, hidden=32):
    """Re-weights each branch's channels with one MLP shared by all branches.

    Args:
        branches: list of KerasTensors with the same number of channels C.
        hidden: int. Bottleneck width of the MLP (C -> hidden -> C); 32 in the paper.

    Returns:
        The list of re-weighted branches, in the same order.
    """
    channels = branches[0].shape[-1]
    mlp = [layers.Dense(channels, activation="relu", kernel_initializer="he_normal",
                        use_bias=False, name="attention_dense1"),
           layers.Dense(hidden, activation="relu", kernel_initializer="he_normal",
                        use_bias=False, name="attention_dense2"),
           layers.Dense(channels, activation="sigmoid", kernel_initializer="he_normal",
                        use_bias=False, name="attention_dense3")]
    outputs = []
    for name, branch in zip(BRANCH_NAMES, branches):
        gate = layers.GlobalAveragePooling2D(keepdims=True, name=f"{name}_attention_pool")(branch)
        for dense in mlp:
            gate = dense(gate)
        outputs.append(layers.Multiply(name=f"{name}_attention")([branch, gate]))
    return outputs


def multi_level_aggregation(branches, filters=256, dropout=0.1):
    """Stacks the branches on a new axis and fuses them with a (1, 1, n) Conv3D.

    Args:
        branches: list of n KerasTensors of the same NHWC shape.
        filters: int. Filters of the fusion; 256 in the paper.
        dropout: float. Final dropout rate. Defaults to 0.1.

    Returns:
        The fused NHWC features.
    """
    height, width, channels = branches[0].shape[1:]
    stacked = [layers.Reshape((height, width, 1, channels), name=f"{name}_expand")(b)
               for name, b in zip(BRANCH_NAMES, branches)]
    x = layers.Concatenate(axis=3, name="aggregation_stack")(stacked)
    x = layers.Conv3D(filters, (1, 1, len(branches)), activation="relu", use_bias=False,
                      kernel_initializer="he_normal", name="aggregation_conv3d")(x)
    x = layers.Reshape((height, width, filters), name="aggregation_squeeze")(x)
    x = _refine_conv(filters, "aggregation_conv1")(x)
    x = _refine_conv(filters, "aggregation_conv2")(x)
    return _projection_tail(x, dropout)


def plain_fusion(branches, filters=256, dropout=0.1):
    """Deeplabv3+'s own fusion: concat, 1x1 conv, BN, ReLU, dropout (the ablation).

    The branches are concatenated image pooling first, as in Deeplabv3+, so the
    PASCAL VOC start fills `concat_projection` too.

    Args:
        branches: list of KerasTensors in the order of `BRANCH_NAMES`.
        filters: int. Filters of the projection; 256 in the paper.
        dropout: float. Dropout rate. Defaults to 0.1.

    Returns:
        The fused NHWC features.
    """
    x = layers.Concatenate(name="aspp_concat")([branches[-1], *branches[:-1]])
    x = layers.Conv2D(filters, 1, padding="same", use_bias=False, name="concat_projection")(x)
    return _projection_tail(x, dropout)


def _projection_tail(x, dropout):
    x = layers.BatchNormalization(epsilon=HEAD_EPSILON, name="concat_projection_BN")(x)
    x = layers.Activation("relu", name="concat_projection_relu")(x)
    return layers.Dropout(dropout, name="concat_projection_dropout")(x)
