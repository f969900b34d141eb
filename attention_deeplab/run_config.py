"""A training run's configuration: one typed, frozen record, serialised as the run's `config.json`.

Training builds a `RunConfig` once; the loop, the run-folder checks,
evaluation and prediction read its attributes, never a dict by string.
`to_json`/`from_json` keep `config.json`'s keys as they have always been, so
older run folders load (missing keys take their defaults) and keys written by
newer versions survive a round trip (`extra`).
"""
import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from attention_deeplab.files import read_json, write_json_atomic

CONFIG_NAME = "config.json"
# The original recipe (Azad et al. 2020, and its training script).
LR_SCHEDULE = {"monitor": "val_loss", "factor": 0.1, "patience": 7, "min_delta": 1e-4}
# The keys of config.json a resumed run may change, as none changes its epochs'
# results: a longer run; the data's folder (its fingerprint must match); the backend
# and software versions, which compute the same epochs with other rounding
# (history.csv names each epoch's backend). Every other key must match.
RESUMABLE_KEYS = ("epochs", "data_dir", "keras_backend", "versions", "tensorboard")
# Weights files, compared as files: another path to the same file is the same start.
PATH_KEYS = ("backbone_weights", "init_weights")
# How the command line names a key, for the refusal of a different run.
OPTION_NAMES = {
    "dataset": "--dataset", "data_fingerprint": "--data-dir's arrays",
    "batch_size": "--batch-size", "lr": "--lr", "backbone_weights": "--backbone-weights",
    "init_weights": "--init-weights", "augment": "--augment",
    "mixed_precision": "--mixed-precision", "seed": "--seed",
    "data_parallel": "--data-parallel", "precise_bn": "--precise-bn",
    "precise_bn_images": "--precise-bn-images", "model.preset": "--preset",
    "model.attention": "--no-attention", "model.output_stride": "--output-stride",
    "model.input_shape": "the images' size"}


@dataclass(frozen=True)
class RunConfig:
    """Every resolved option of a training run, with the data and software it ran on.

    Args:
        model: dict. The model options (`attention_deeplab.model.model_options`).
        dataset: str. The dataset's name. Defaults to "isic2018".
        data_dir: str. The prepared arrays' folder (absolute).
        data_fingerprint: str. split.json's fingerprint (or a hash of older arrays).
        data_resize: str or None. How Prepare resized the data ("fast" or "exact");
            None for manifests made before split.json recorded it (those were "fast").
        sizes: dict. Images per split ("train", "val").
        epochs: int. Total epochs. Defaults to 100 (paper).
        batch_size: int. The global batch. Defaults to 7 (paper).
        lr: float. Adam's learning rate. Defaults to 1e-4 (paper).
        backbone_weights: str or None. "pascal_voc" (paper), a path, or None.
        init_weights: str or None. A whole model's weights to start from.
        augment: bool. Random flips and 90-degree rotations.
        mixed_precision: str or None. "float16" or "bfloat16".
        seed: int. Initialisation, shuffles and augmentation.
        data_parallel: bool. Synchronous training over all local devices.
        precise_bn: bool. Recompute batch-norm statistics before each validation.
        precise_bn_images: int. Training images for those statistics.
        tensorboard: bool. Also write the epochs' curves to <run>/tensorboard/.
        keras_backend: str. The backend of its latest start (history.csv names
            each epoch's).
        optimizer, loss, lr_schedule, checkpoint: the paper's recipe, recorded.
        versions: dict. Software versions.
        extra: dict. Keys of config.json this version does not know, kept as read.
    """

    model: dict = None
    dataset: str = "isic2018"
    data_dir: str = ""
    data_fingerprint: str = ""
    data_resize: str = None
    sizes: dict = field(default_factory=dict)
    epochs: int = 100
    batch_size: int = 7
    lr: float = 1e-4
    backbone_weights: str = "pascal_voc"
    init_weights: str = None
    augment: bool = False
    mixed_precision: str = None
    seed: int = 0
    data_parallel: bool = False
    precise_bn: bool = False
    precise_bn_images: int = 512
    tensorboard: bool = False
    keras_backend: str = ""
    optimizer: str = "adam"
    loss: str = "binary_crossentropy"
    lr_schedule: dict = field(default_factory=lambda: dict(LR_SCHEDULE))
    checkpoint: str = "best val_loss"
    versions: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    def to_json(self):
        """The dict written to config.json (`extra`'s keys at the top level)."""
        payload = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                   if f.name != "extra"}
        return {**self.extra, **payload}

    @classmethod
    def from_json(cls, payload):
        """A RunConfig from config.json's dict; unknown keys go to `extra`."""
        known = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        if not isinstance(payload, dict) or not isinstance(payload.get("model", {}), dict):
            raise ValueError("it is not a JSON object with model options")
        return cls(**{k: v for k, v in payload.items() if k in known},
                   extra={k: v for k, v in payload.items() if k not in known})

    def differences(self, other):
        """What makes `other` a different run, as (option, ours, theirs): every key
        of config.json but RESUMABLE_KEYS, the model's options one by one."""
        ours, theirs = _flat(self), _flat(other)
        keys = list(ours) + [key for key in theirs if key not in ours]
        return [(OPTION_NAMES.get(key, key), ours.get(key), theirs.get(key)) for key in keys
                if key not in RESUMABLE_KEYS and not _same(key, ours.get(key), theirs.get(key))]


def _flat(config):
    """config.json's dict as read back (lists, not tuples), the model's options as
    `model.<name>` keys."""
    payload = json.loads(json.dumps(config.to_json()))
    model = payload.pop("model", None)
    for key, value in (model.items() if isinstance(model, dict) else [("", model)]):
        payload[f"model.{key}" if key else "model"] = value
    return payload


def _same(key, a, b):
    """Equal values; for a weights path, the same file (symlinks resolved, hard links
    by inode), not a copy of it, whose content this does not read."""
    if a == b:
        return True
    if key not in PATH_KEYS or not (isinstance(a, str) and isinstance(b, str)) \
            or "pascal_voc" in (a, b):  # the download, not a path
        return False
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one is missing: no file to be the same
        return False


def read_config(run_dir):
    """`<run_dir>/config.json` as a RunConfig, or None when the folder has none.

    Raises:
        ValueError: the file exists but is damaged (the message names it).
    """
    path = Path(run_dir) / CONFIG_NAME
    payload = read_json(path, hint=": train the run again with --overwrite")
    if payload is None:
        return None
    try:
        return RunConfig.from_json(payload)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path} is not a run configuration ({error}): train the run "
                         "again with --overwrite") from error


def write_config(run_dir, config):
    """Writes `config` (a RunConfig) to `<run_dir>/config.json` atomically."""
    write_json_atomic(Path(run_dir) / CONFIG_NAME, config.to_json())
