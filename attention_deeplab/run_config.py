"""A training run's configuration: one typed, frozen record, serialised as the run's `config.json`.

Training builds a `RunConfig` once; the loop, the run-folder checks,
evaluation and prediction read its attributes, never a dict by string.
`to_json`/`from_json` keep `config.json`'s keys as they have always been, so
older run folders load (missing keys take their defaults) and keys written by
newer versions survive a round trip (`extra`).
"""
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from attention_deeplab.files import read_json, write_json_atomic

CONFIG_NAME = "config.json"
# The original recipe (Azad et al. 2020, and its training script).
LR_SCHEDULE = {"monitor": "val_loss", "factor": 0.1, "patience": 7, "min_delta": 1e-4}
# What makes two runs different runs: resuming across a change would mix them.
IDENTITY_KEYS = ("data_fingerprint", "model", "batch_size", "lr", "seed", "augment")


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
        keras_backend: str. The backend it trained on.
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
        """The identity keys on which `other` describes a different run, as (key, ours, theirs)."""
        ours, theirs = self.to_json(), other.to_json()
        return [(key, ours.get(key), theirs.get(key)) for key in IDENTITY_KEYS
                if ours.get(key) != theirs.get(key)]


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
