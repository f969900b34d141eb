"""Where a run's pieces are: its folder and files, its data, its weights, its model options.

`resolve_run` is the one resolver that training's defaults, evaluation and
prediction share, so "a weights file inside a run folder takes that run's
options" and every default folder are decided in one place.
"""
from dataclasses import dataclass
from pathlib import Path

from attention_deeplab.datasets import DEFAULT_DATASET, get_dataset
from attention_deeplab.run_config import CONFIG_NAME, read_config

# The files of a run folder (config.json: run_config.CONFIG_NAME).
BEST_WEIGHTS = "best.weights.h5"
HISTORY_NAME = "history.csv"
STATE_NAME = "state.json"
CURVES_NAME = "training_curves.png"
# An evaluation folder (<run>/evaluation/<split>[_tta]/), read back by comparisons.
EVALUATION_DIR = "evaluation"
METRICS_NAME = "metrics.json"
PER_IMAGE_NAME = "per_image.csv"
PROBABILITIES_NAME = "probabilities.npy"


def default_folders(dataset=None):
    """(data folder, run folder) of a dataset by default, relative to the working folder."""
    facts = get_dataset(dataset or DEFAULT_DATASET)
    return Path(facts.data_dir), Path(facts.run_dir)


@dataclass(frozen=True)
class RunLocations:
    """What a model-using command reads and where it writes.

    Args:
        run_dir: Path or None. The folder outputs go under (the training run, or
            a folder given only to receive outputs); None for a bare weights file.
        data_dir: Path or None. The prepared arrays.
        weights: Path. The weights file to load.
        model_run: Path or None. The training run whose config.json rebuilds the model.
        config: RunConfig or None. That run's configuration.
    """

    run_dir: Path
    data_dir: Path
    weights: Path
    model_run: Path
    config: object

    def model_options(self, **overrides):
        """The model options: the run's, or the paper's full network for a bare
        weights file (an authors' checkpoint), with the non-None `overrides` applied."""
        from attention_deeplab.model import model_options

        if self.config is not None and self.config.model is None:
            raise FileNotFoundError(f"{self.model_run / CONFIG_NAME} holds no model options: "
                                    "train the run with Train_Skin_Lesion_Segmentation.py first")
        options = dict(self.config.model) if self.config is not None else model_options()
        options.update({key: value for key, value in overrides.items() if value is not None})
        return options


def _weights_run(weights):
    """The run folder a weights file sits in (beside a config.json), or None."""
    folder = None if weights is None else Path(weights).parent
    return folder if folder is not None and read_config(folder) is not None else None


def resolve_run(dataset=None, run_dir=None, data_dir=None, weights=None, outputs_in_run=True,
                require_weights=True):
    """Resolves a command's run folder, data folder, weights file and model run.

    A weights file inside a run folder (beside its config.json) takes that run's
    model options; elsewhere (an authors' checkpoint) the full network's.

    Args:
        dataset: str or None. Picks the default folders; None: the run's own data,
            else isic2018's.
        run_dir: str, Path or None. A training run folder. With `outputs_in_run`,
            a folder without config.json, given `weights`, only receives outputs.
        data_dir: str, Path or None. Prepared arrays; defaults to the run's.
        weights: str, Path or None. Defaults to the run's best weights.
        outputs_in_run: bool. Whether outputs go under the run folder (evaluation):
            then with neither `run_dir` nor `weights` the dataset's default run is used.
        require_weights: bool. Check that the weights file exists.

    Returns:
        RunLocations.

    Raises:
        FileNotFoundError: no config.json where a run is needed, or no weights file.
        ValueError: neither a run folder nor weights given (outputs elsewhere), or a
            damaged config.json.
    """
    if run_dir is None and weights is None:
        if not outputs_in_run:
            raise ValueError("give --run-dir (a training run folder) or --weights (a weights file)")
        run_dir = default_folders(dataset)[1]
    config = None if run_dir is None else read_config(run_dir)
    if run_dir is not None and config is None and (weights is None or not outputs_in_run):
        raise FileNotFoundError(f"{Path(run_dir) / CONFIG_NAME} not found: train a model into "
                                f"{run_dir} with Train_Skin_Lesion_Segmentation.py first"
                                + (", or give --weights" if outputs_in_run else ""))
    model_run = Path(run_dir) if config is not None else _weights_run(weights)
    if config is None and model_run is not None:
        config = read_config(model_run)
    if data_dir is None:
        use_run_data = dataset is None and config is not None and config.data_dir
        data_dir = config.data_dir if use_run_data else default_folders(
            dataset or (config.dataset if config else None))[0]
    weights = Path(model_run / BEST_WEIGHTS if weights is None else weights)
    if require_weights and not weights.is_file():
        hint = " (the run has no best weights yet: train it first)" if model_run else ""
        raise FileNotFoundError(f"weights file {weights} not found{hint}")
    out_run = run_dir if run_dir is not None else model_run
    return RunLocations(run_dir=None if out_run is None else Path(out_run),
                        data_dir=Path(data_dir), weights=weights, model_run=model_run,
                        config=config)
