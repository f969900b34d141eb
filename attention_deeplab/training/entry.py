"""`train`: the one function behind Train_Skin_Lesion_Segmentation.py."""
import contextlib
import math
from pathlib import Path

import keras

from attention_deeplab.compile_cache import enable_compilation_cache
from attention_deeplab.errors import TrainingError
from attention_deeplab.locations import STATE_NAME
from attention_deeplab.provenance import versions
from attention_deeplab.run_config import RunConfig, read_config, write_config
from attention_deeplab.training.data import (
    data_fingerprint, data_fold, data_resize, load_training_data)
from attention_deeplab.training.distribute import DataParallel
from attention_deeplab.training.loop import run_epochs
from attention_deeplab.training.model_setup import build_model, precision_policy
from attention_deeplab.training.run_folder import (
    check_compatible, clear_run, history_matches, read_state, restore_state, write_history)


def open_run(run_dir, config, overwrite, writer=True):
    """Checks the run folder against `config` and returns its resume state (or None).

    A folder holding another run is refused unless `overwrite`, which clears it.
    Only a `writer` (the chief of several workers) clears or writes anything.
    """
    run_dir = Path(run_dir)
    if overwrite and not writer:
        return None  # the chief clears the folder, and starts again
    try:
        saved = read_config(run_dir)
    except ValueError as error:
        if not overwrite:
            raise TrainingError(str(error)) from error
        saved = True  # damaged: --overwrite clears it below
    if overwrite and (saved is not None or (run_dir / STATE_NAME).exists()):
        clear_run(run_dir)
        saved = None
    if saved is None and (run_dir / STATE_NAME).exists():
        raise TrainingError(f"{run_dir} holds a resume state but no config.json: pass "
                            "--overwrite to start again, or choose another --run-dir")
    state = read_state(run_dir)
    # A config without a finished epoch is a start that failed (a bad option, no
    # network): nothing to protect, so a corrected command simply replaces it.
    if saved is not None and state is not None:
        check_compatible(saved, config, run_dir)
    if writer and (state is None or state["epoch"] < config.epochs):
        write_config(run_dir, config)
    # A kill may have come between the state and the history (or the history is damaged):
    # rewrite it from the state, whose rows are the same bar the state's own writing time.
    if writer and state is not None and not history_matches(run_dir, state["history"]):
        write_history(run_dir, state["history"])
    return state


def resolve_precise_bn(precise_bn, backbone_weights, init_weights):
    """`auto` is on when the backbone starts from scratch, where the moving
    averages lag (see precise_bn.py); with pretrained weights it is the original's off."""
    if precise_bn in (True, "on"):
        return True
    if precise_bn in (False, "off"):
        return False
    if precise_bn != "auto":
        raise TrainingError(f"--precise-bn must be on, off or auto, got {precise_bn!r}")
    return backbone_weights is None and init_weights is None


def _model_options(height, width, preset, attention, output_stride):
    from attention_deeplab.model import model_options

    try:
        return model_options(input_shape=(height, width, 3), preset=preset,
                             attention=attention, output_stride=output_stride)
    except ValueError as error:
        raise TrainingError(str(error)) from error


def _train_model(splits, config, state, run_dir, verbose, parallel):
    """Builds the model (in the data-parallel engine if given), restores, trains."""
    with precision_policy(config.mixed_precision):
        with parallel.build_scope() if parallel else contextlib.nullcontext():
            # A resumed run's own weights replace any start: fetch nothing then.
            start = (None, None) if state else (config.backbone_weights, config.init_weights)
            model = build_model(config.model, *start, config.lr, data_parallel=bool(parallel))
            if state is not None:
                restore_state(run_dir, model, state,
                              writer=parallel is None or parallel.is_chief)
        twin = None
        if parallel:
            print(f"data parallel over {parallel.devices} devices of {parallel.workers} "
                  f"worker(s) (this is worker {parallel.worker}), "
                  f"{config.batch_size // parallel.devices} images each per step", flush=True)
            twin = build_model(config.model, None, None, config.lr)
        state = run_epochs(model, splits, config, state, run_dir, verbose,
                           parallel=parallel, twin=twin)
        if parallel:  # the chief's coordination service must outlive the others' last step
            parallel.check_same(state["epoch"], "the epochs trained")
        return state


def train(data_dir, run_dir, dataset="isic2018", epochs=100, batch_size=7, lr=1e-4,
          backbone_weights="pascal_voc", init_weights=None, preset="full", attention=True,
          output_stride=16, augment=False, mixed_precision=None, seed=0, data_parallel=False,
          precise_bn="auto", precise_bn_images=512, overwrite=False, verbose=1,
          tensorboard=False):
    """Trains Attention Deeplabv3+ on prepared arrays with the paper's recipe, resumably.

    Runs the epochs after the last finished one in `run_dir` (none if new),
    writing config.json, best.weights.h5 (lowest val_loss), history.csv,
    training_curves.png and the resume state after each epoch.

    Args:
        data_dir: str or Path. Prepared arrays (data_/mask_{train,val}.npy, split.json).
        run_dir: str or Path. The run folder.
        dataset: str. Recorded in config.json. Defaults to "isic2018".
        epochs: int. Total epochs of the run. Defaults to 100 (paper).
        batch_size: int. The global batch. Defaults to 7 (paper).
        lr: float. Adam's learning rate. Defaults to 1e-4 (paper).
        backbone_weights: str or None. "pascal_voc" (paper), a path, or None/"none".
        init_weights: str or None. A whole model's weights to start from (fine-tuning).
        preset: str. "full" or "tiny". Defaults to "full".
        attention: bool. False for the plain Deeplabv3+ ablation. Defaults to True.
        output_stride: int. 16 or 8. Defaults to 16.
        augment: bool. Random flips and 90-degree rotations. Defaults to False.
        mixed_precision: str or None. "float16" or "bfloat16". Defaults to None.
        seed: int. Initialisation, shuffles and augmentation. Defaults to 0.
        data_parallel: bool. Synchronous training over all local devices.
        precise_bn: str. "on", "off" or "auto" (on when starting from scratch).
        precise_bn_images: int. Training images for the statistics. Defaults to 512.
        overwrite: bool. Replace a different run in `run_dir`. Defaults to False.
        verbose: int. 0 silent, 1 a progress bar per epoch. Defaults to 1.
        tensorboard: bool. Also write TensorBoard curves to <run_dir>/tensorboard/.

    Returns:
        dict: "run_dir", "epochs_done", "best" (val_loss, epoch), "ran" (epochs run now).

    Raises:
        TrainingError: with a one-line reason.
    """
    backbone_weights = None if str(backbone_weights).lower() in ("none", "") else backbone_weights
    if epochs < 1 or precise_bn_images < 1 or not 0 < lr < math.inf:  # NaN fails too
        raise TrainingError(f"--epochs ({epochs}), --precise-bn-images ({precise_bn_images}) "
                            f"and --lr ({lr}) must be positive")
    if mixed_precision not in (None, "float16", "bfloat16"):
        raise TrainingError(f"--mixed-precision must be float16 or bfloat16, got {mixed_precision!r}")
    splits = load_training_data(data_dir, batch_size, dataset)
    height, width = splits["train"][0].shape[1:3]
    config = RunConfig(
        model=_model_options(height, width, preset, attention, output_stride),
        dataset=dataset, data_dir=str(Path(data_dir).resolve()),
        data_fingerprint=data_fingerprint(data_dir, splits), data_resize=data_resize(data_dir),
        sizes={name: int(len(pair[0])) for name, pair in splits.items()},
        epochs=int(epochs), batch_size=int(batch_size), lr=float(lr),
        backbone_weights=None if backbone_weights is None else str(backbone_weights),
        init_weights=None if init_weights is None else str(Path(init_weights).resolve()),
        augment=bool(augment), mixed_precision=mixed_precision, seed=int(seed),
        data_parallel=bool(data_parallel), precise_bn_images=int(precise_bn_images),
        precise_bn=resolve_precise_bn(precise_bn, backbone_weights, init_weights),
        keras_backend=keras.backend.backend(), tensorboard=bool(tensorboard),
        versions=versions("keras", _backend_module()), extra=data_fold(data_dir))
    parallel = DataParallel(batch_size) if data_parallel else None
    state = open_run(run_dir, config, overwrite, writer=parallel is None or parallel.is_chief)
    done = 0 if state is None else state["epoch"]
    if parallel:
        parallel.check_same(done, "the finished epochs in --run-dir")
    if done >= epochs:
        print(f"{run_dir}: this run has finished its {done} epochs (best val_loss "
              f"{state['best']['val_loss']:.4f} at epoch {state['best']['epoch']}); "
              "raise --epochs to continue it", flush=True)
        return {"run_dir": str(run_dir), "epochs_done": done, "best": state["best"], "ran": 0}
    keras.utils.set_random_seed(int(seed) + done)
    enable_compilation_cache()
    state = _train_model(splits, config, state, run_dir, verbose, parallel)
    return {"run_dir": str(run_dir), "epochs_done": state["epoch"], "best": state["best"],
            "ran": state["epoch"] - done}


def _backend_module():
    """The import name of the running Keras backend's framework."""
    return {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}.get(
        keras.backend.backend(), "keras")
