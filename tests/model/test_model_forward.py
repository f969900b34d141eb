"""The reduced ('tiny') network at 64x64: forward, options, variants, fit, save/reload."""
import inspect
import json

import numpy as np
import pytest

import keras

from attention_deeplab.model import Deeplabv3pa, build_from_options, model_options

# A compiled model saved before its optimizer was built reloads with this Keras warning.
pytestmark = pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
RNG = np.random.default_rng(0)
X = RNG.random((2, 64, 64, 3), dtype=np.float32)
Y = (RNG.random((2, 64, 64, 1)) > 0.5).astype("float32")


@pytest.fixture(scope="module")
def tiny():
    return Deeplabv3pa(weights=None, input_shape=(64, 64, 3), preset="tiny")


def _predict(model, x=X):
    return keras.ops.convert_to_numpy(model(x, training=False))


def test_forward_shape_range_dtype(tiny):
    y = _predict(tiny)
    assert y.shape == (2, 64, 64, 1) and y.dtype == np.float32
    assert np.all((y >= 0) & (y <= 1))
    np.testing.assert_array_equal(y, _predict(tiny))  # inference is deterministic


def test_paper_parts_present(tiny):
    names = {layer.name for layer in tiny.layers}
    for name in ("aspp0", "aspp3_depthwise", "image_pooling", "attention_dense2",
                 "aggregation_conv3d", "concat_projection_BN", "feature_projection0",
                 "middle_flow_unit_2_separable_conv3_pointwise"):
        assert name in names
    assert "middle_flow_unit_3_add" not in names  # tiny: 2 middle units
    assert tiny.get_layer("aspp1_depthwise").dilation_rate == (6, 6)


def test_options_json_round_trip(tiny):
    options = model_options(input_shape=(64, 64, 3), preset="tiny")
    assert options == {"input_shape": [64, 64, 3], "preset": "tiny", "attention": True,
                       "output_stride": 16}
    model = build_from_options(json.loads(json.dumps(options)))
    assert model.count_params() == tiny.count_params()
    with pytest.raises(ValueError, match="unknown model option"):
        build_from_options({**options, "width": 2})
    with pytest.raises(ValueError, match="preset"):
        model_options(preset="huge")


def test_rejects_sizes_not_multiple_of_output_stride():
    with pytest.raises(ValueError, match="multiples of the output stride OS=16"):
        Deeplabv3pa(weights=None, input_shape=(72, 64, 3), preset="tiny")
    with pytest.raises(ValueError, match="OS must be 16 or 8"):
        Deeplabv3pa(weights=None, input_shape=(64, 64, 3), preset="tiny", OS=4)


def test_output_stride_8():
    model = Deeplabv3pa(weights=None, input_shape=(64, 64, 3), preset="tiny", OS=8)
    features = model.get_layer("exit_flow_block2_separable_conv3_pointwise_relu").output
    assert features.shape[1:3] == (8, 8)
    assert model.get_layer("aspp1_depthwise").dilation_rate == (12, 12)
    assert model.get_layer("middle_flow_unit_1_separable_conv1_depthwise").dilation_rate == (2, 2)
    assert _predict(model).shape == (2, 64, 64, 1)


def test_non_square_input():
    model = Deeplabv3pa(weights=None, input_shape=(64, 96, 3), preset="tiny")
    assert model.get_layer("image_pooling_average").output.shape[1:3] == (1, 1)
    assert model.get_layer("aggregation_squeeze").output.shape[1:3] == (4, 6)
    y = _predict(model, RNG.random((1, 64, 96, 3), dtype=np.float32))
    assert y.shape == (1, 64, 96, 1)


def test_attention_false_is_plain_deeplab(tiny):
    model = Deeplabv3pa(weights=None, input_shape=(64, 64, 3), preset="tiny", attention=False)
    names = {layer.name for layer in model.layers}
    assert "concat_projection" in names and "concat_projection_BN" in names
    assert not {"attention_dense1", "aggregation_conv3d", "aspp0_refine_conv1"} & names
    assert model.get_layer("concat_projection").input.shape[-1] == 5 * 32  # five branches
    assert model.count_params() < tiny.count_params()
    assert _predict(model).shape == (2, 64, 64, 1)


def test_one_fit_step_changes_weights():
    model = Deeplabv3pa(weights=None, input_shape=(64, 64, 3), preset="tiny", compile=False)
    # Eager: a traced train step of this graph costs ~30 s on 2 cores; the graph
    # path is covered by the slow test below.
    model.compile(optimizer="adam", loss="binary_crossentropy", run_eagerly=True)
    before = model.get_layer("aggregation_conv3d").get_weights()[0].copy()
    history = model.fit(X, Y, batch_size=2, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert not np.allclose(before, model.get_layer("aggregation_conv3d").get_weights()[0])


@pytest.mark.slow
def test_compiled_fit_step_as_the_original(tiny):
    assert isinstance(tiny.optimizer, keras.optimizers.Adam)
    assert np.isclose(float(keras.ops.convert_to_numpy(tiny.optimizer.learning_rate)), 1e-4)
    history = tiny.fit(X, Y, batch_size=2, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0]) and "accuracy" in history.history


def test_keras_save_and_reload_predict_identically(tiny, tmp_path):
    path = tmp_path / "tiny.keras"
    tiny.save(path)
    reloaded = keras.saving.load_model(path)  # no custom_objects needed
    np.testing.assert_array_equal(_predict(reloaded), _predict(tiny))


@pytest.mark.slow
@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_trains_and_outputs_float32(policy):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        model = Deeplabv3pa(weights=None, input_shape=(64, 64, 3), preset="tiny", compile=False)
        model.compile(optimizer="adam", loss="binary_crossentropy", run_eagerly=True)
        history = model.fit(X, Y, batch_size=2, epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][0])
        assert keras.backend.standardize_dtype(model.output.dtype) == "float32"
        assert keras.backend.standardize_dtype(model(X).dtype) == "float32"
        assert model.get_layer("aspp0").compute_dtype == policy.split("_")[1]
    finally:
        keras.config.set_dtype_policy(previous)


def test_default_size_is_256_and_classes_sets_the_outputs():
    # The original's default input of 512 could not run: its attention head reshaped to a
    # fixed 16x16, the feature map of a 256 input. 256 is the default of model and Prepare.
    from attention_deeplab.data.cli import build_prepare_parser

    assert inspect.signature(Deeplabv3pa).parameters["input_shape"].default == (256, 256, 3)
    assert build_prepare_parser("isic2018", "").parse_args([]).size == [256]
    model = Deeplabv3pa(weights=None, input_shape=(32, 32, 3), preset="tiny", classes=2,
                        compile=False)  # the original ignored `classes`
    assert model.output_shape == (None, 32, 32, 2)
