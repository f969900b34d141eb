"""A trained model rebuilt for inference: the options of its run, its weights loaded."""
from attention_deeplab.compile_cache import enable_compilation_cache
from attention_deeplab.locations import resolve_run


def build_inference_model(locations, input_shape=None, **overrides):
    """Builds the model that `locations` describe and loads its weights.

    Args:
        locations: RunLocations. From `attention_deeplab.locations.resolve_run`.
        input_shape: sequence or None. (H, W, 3) overriding the run's.
        **overrides: preset, attention, output_stride; None keeps the run's.

    Returns:
        keras.Model with the weights loaded.

    Raises:
        ValueError: the weights do not fit the model (from the loader).
    """
    from attention_deeplab.model import build_from_options, load_weights_into

    enable_compilation_cache()  # before building: its initialisers compile too, on JAX
    options = locations.model_options(
        input_shape=None if input_shape is None else list(input_shape), **overrides)
    model = build_from_options(options, weights=None)
    load_weights_into(model, locations.weights)
    return model


def load_inference_model(run_dir=None, weights=None, preset=None, attention=None,
                         output_stride=None, input_shape=None):
    """Rebuilds a trained model and loads its weights.

    Args:
        run_dir: str, Path or None. A training run folder; its `config.json`
            gives the model options and `best.weights.h5` the default weights.
        weights: str, Path or None. A weights file: this project's
            `.weights.h5`/`.keras` or an authors' checkpoint. Defaults to the
            run's best weights; inside a run folder, it takes that run's options.
        preset: str or None. "full" or "tiny", overriding the run's options.
        attention: bool or None. False for the plain Deeplabv3+ ablation.
        output_stride: int or None. 16 or 8.
        input_shape: sequence or None. (H, W, 3).

    Returns:
        keras.Model with the weights loaded.

    Raises:
        FileNotFoundError: no run folder, config.json or weights file.
        ValueError: neither given, or the weights do not fit the model.
    """
    locations = resolve_run(run_dir=run_dir, weights=weights, outputs_in_run=False)
    return build_inference_model(locations, input_shape, preset=preset, attention=attention,
                                 output_stride=output_stride)
