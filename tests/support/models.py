"""Small stand-in Keras models for tests where the network itself is not the point,
and a recorder of which model options and weights a command loads."""
import keras
import numpy as np


def dark_is_lesion_model(size, bias=6.0):
    """A 1x1 convolution: sigmoid(bias - 0.05 * mean channel) of the 0..255 input, so
    dark pixels are lesion. Its output is known in closed form, which tests use."""
    inputs = keras.Input((size, size, 3))
    layer = keras.layers.Conv2D(1, 1, activation="sigmoid")
    model = keras.Model(inputs, layer(inputs))
    layer.set_weights([np.full((1, 1, 3, 1), -0.05 / 3, np.float32),
                       np.array([bias], np.float32)])
    return model


def record_model_loads(monkeypatch, size):
    """Replaces building and weight loading by a recorder; returns its list of calls.

    Each command that loads a trained model appends (model options, weights path)
    and gets `dark_is_lesion_model(size)` instead of the network.
    """
    calls = []

    def build(options, weights=None, compile=True):
        calls.append([dict(options), None])
        return dark_is_lesion_model(size)

    def load(model, path):
        calls[-1][1] = str(path)

    monkeypatch.setattr("attention_deeplab.model.deeplab.build_from_options", build)
    monkeypatch.setattr("attention_deeplab.model.weights.load_weights_into", load)
    return calls


def standin_model(options, dropout=True):
    """A small segmentation network with batch norm (and dropout), built from model
    options as the real one is: it traces in a second where the tiny preset takes tens."""
    inputs = keras.Input(tuple(options["input_shape"]))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(8, 3, padding="same", use_bias=False)(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Activation("relu")(x)
    if dropout:
        x = keras.layers.Dropout(0.1)(x)
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    outputs = keras.layers.Conv2D(1, 1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs)
