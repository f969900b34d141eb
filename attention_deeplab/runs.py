"""A training run's folder: its `config.json`, and the model rebuilt from it.

Evaluation and prediction call `load_inference_model`, so a run is always
read back with the model options it was trained with.
"""
import json
import os
import tempfile
from pathlib import Path

CONFIG_NAME = "config.json"
BEST_WEIGHTS = "best.weights.h5"
# Default prepared-data folder and run folder of each --dataset, shared by
# training and evaluation so both scripts resolve a dataset the same way.
DATASET_FOLDERS = {"isic2018": ("dataset_isic18", "output/isic2018"),
                   "isic2017": ("dataset_isic17", "output/isic2017"),
                   "ph2": ("dataset_ph2", "output/ph2")}


def make_temporary(path, suffix=".tmp"):
    """A temporary file beside `path`, with the permissions a plain `open` would give
    (mkstemp's are owner-only), for writing and renaming onto `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    return handle, tmp


def write_json_atomic(path, payload):
    """Writes JSON to `path` through a temporary file and a rename, so a kill
    at any moment leaves the old file or the new one, never half of one."""
    handle, tmp = make_temporary(path)
    try:
        with os.fdopen(handle, "w") as stream:
            json.dump(payload, stream, indent=2, sort_keys=True)
            stream.write("\n")
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_config(run_dir):
    """Reads `<run_dir>/config.json`.

    Args:
        run_dir: str or Path. A folder written by training.

    Returns:
        dict, or None when the folder has no config.json.

    Raises:
        ValueError: the file exists but is not valid JSON.
    """
    path = Path(run_dir) / CONFIG_NAME
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except ValueError as error:
        raise ValueError(f"{path} is not valid JSON ({error})") from error


def write_config(run_dir, config):
    """Writes `config` to `<run_dir>/config.json` atomically."""
    write_json_atomic(Path(run_dir) / CONFIG_NAME, config)


def add_model_override_arguments(parser):
    """--preset, --no-attention and --output-stride, as Evaluate_Skin.py and
    Predict_Skin.py take them: unset, the run's (or the full network's) options hold."""
    parser.add_argument("--preset", choices=["full", "tiny"], help="override the model preset")
    parser.add_argument("--no-attention", dest="attention", action="store_const", const=False,
                        help="the plain Deeplabv3+ (ablation) weights")
    parser.add_argument("--output-stride", type=int, choices=[16, 8])
    return parser


def _resolve_options(run_dir, weights, overrides):
    """The model options and weights path for `load_inference_model`."""
    from attention_deeplab.model import model_options

    if run_dir is not None:
        config = read_config(run_dir)
        if config is None or "model" not in config:
            raise FileNotFoundError(
                f"{Path(run_dir) / CONFIG_NAME} not found: train a model into "
                f"{run_dir} with Train_Skin_Lesion_Segmentation.py first")
        options = dict(config["model"])
        weights = Path(run_dir) / BEST_WEIGHTS if weights is None else weights
    elif weights is None:
        raise ValueError("load_inference_model needs run_dir or weights")
    else:
        # A bare weights file (an authors' checkpoint included) means the
        # paper's full network unless the caller says otherwise.
        options = model_options()
    options.update({k: v for k, v in overrides.items() if v is not None})
    if not Path(weights).is_file():
        hint = (" (the run has no best weights yet: train it first)"
                if run_dir is not None else "")
        raise FileNotFoundError(f"weights file {weights} not found{hint}")
    return options, Path(weights)


def load_inference_model(run_dir=None, weights=None, preset=None, attention=None,
                         output_stride=None, input_shape=None):
    """Rebuilds a trained model and loads its weights.

    Args:
        run_dir: str, Path or None. A training run folder; its `config.json`
            gives the model options and `best.weights.h5` the default weights.
        weights: str, Path or None. A weights file: this project's
            `.weights.h5`/`.keras` or an authors' checkpoint. Defaults to the
            run's best weights.
        preset: str or None. "full" or "tiny", overriding the run's options.
        attention: bool or None. False for the plain Deeplabv3+ ablation.
        output_stride: int or None. 16 or 8.
        input_shape: sequence or None. (H, W, 3).

    Returns:
        keras.Model with the weights loaded.

    Raises:
        FileNotFoundError: no run folder, config.json or weights file.
        ValueError: the weights do not fit the model (from the loader).
    """
    from attention_deeplab.compile_cache import enable_compilation_cache
    from attention_deeplab.model import build_from_options, load_weights_into

    enable_compilation_cache()  # before building: its initialisers compile too, on JAX
    overrides = {"preset": preset, "attention": attention,
                 "output_stride": output_stride,
                 "input_shape": None if input_shape is None else list(input_shape)}
    options, weights = _resolve_options(run_dir, weights, overrides)
    model = build_from_options(options, weights=None)
    load_weights_into(model, weights)
    return model
