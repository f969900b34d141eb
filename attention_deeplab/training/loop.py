"""The epochs of a run: train, recompute batch-norm statistics, validate, keep the best, save state."""
import contextlib
import math
from pathlib import Path

import keras

from attention_deeplab.data.loader import ArraySequence
from attention_deeplab.errors import TrainingError
from attention_deeplab.run_config import LR_SCHEDULE
from attention_deeplab.training.background_writer import EpochSaver
from attention_deeplab.training.callbacks import EpochProgress, NanGuard
from attention_deeplab.training.precise_bn import BatchStatistics, recompute_bn_statistics
from attention_deeplab.training.state_schedule import StateSchedule
from attention_deeplab.training.tensorboard_log import EpochBoard
from attention_deeplab.training.timing import PartClock

# Worker threads feed a bounded queue; without them Keras's TensorFlow adapter
# prefetches with AUTOTUNE, whose buffer grew to ~1.5 GB of batches over an
# ISIC 2018 epoch (benchmarks/bench_train_memory.py).
LOADER_QUEUE = {"workers": 2, "max_queue_size": 8}


def _sequences(splits, config, shard=(0, 1)):
    """The training (this worker's `shard` of each batch), validation and
    batch-norm-statistics batches."""
    batch, seed = config.batch_size, config.seed
    # A last batch of one image has no batch statistics (its pooled 1x1
    # features normalise to zero); data-parallel engines split only full
    # batches. The images left out change with each epoch's shuffle.
    train = ArraySequence(*splits["train"], batch, shuffle=True, seed=seed,
                          augment=config.augment,
                          min_batch=batch if config.data_parallel else 2, shard=shard,
                          **LOADER_QUEUE)
    val = ArraySequence(*splits["val"], batch, **LOADER_QUEUE)
    # Its own seed: the statistics are drawn from a sample other than the epoch's order.
    stats = ArraySequence(*splits["train"], batch, shuffle=True, seed=seed + 1,
                          limit=config.precise_bn_images, min_batch=2)
    return train, val, stats


def _schedule(model, state):
    """The original's ReduceLROnPlateau, with the wait and best of a resumed run."""
    schedule = keras.callbacks.ReduceLROnPlateau(**LR_SCHEDULE, verbose=1)
    schedule.set_model(model)
    for key, value in ((state or {}).get("lr_schedule") or {}).items():
        setattr(schedule, key, value)
    return schedule


def build_from_first_batch(model, sequence):
    """Builds a compiled model's loss and metrics from the shapes of `sequence`'s
    first batch, as `fit` and `evaluate` would, without their reading it through
    the loader's worker threads.

    Keras's own build (`_symbolic_build`) draws that batch from a started
    PyDataset enqueuer and leaves it running. On JAX and PyTorch the first epoch
    of each process then trained on the wrong batches: PH2's 12 as 1..9, 0, 1, 2
    (two left out, two twice), 5 of ISIC-like batches as 1..4, 0; its partial
    batch first compiled in epoch 2 (about 100 s on an H100). TensorFlow without
    a strategy builds without reading; with one, `fit` reads a `DataParallel.feed`
    dataset, which restarts from its first batch.
    """
    if keras.backend.backend() == "tensorflow":
        return
    # What Keras's build checks (private names: a Keras that renames them fails here).
    parts = (model._compile_metrics, model._compile_loss, model.optimizer)
    if len(sequence) and any(part is not None and not part.built for part in parts):
        model._symbolic_build(data_batch=sequence[0])


def _fit_epoch(model, train, epoch, epochs, verbose, feed=None):
    """One epoch of `fit` on `train` (or on `feed`, the engine's view of it);
    a clear error on a NaN or infinite loss."""
    train.epoch = epoch
    build_from_first_batch(model, train)
    guard = NanGuard()
    callbacks = [guard, EpochProgress(epochs)] if verbose else [guard]
    result = model.fit(train if feed is None else feed, initial_epoch=epoch, epochs=epoch + 1, shuffle=False,
                       verbose=verbose, callbacks=callbacks)
    if guard.failed_at is not None:
        _, batch, loss = guard.failed_at
        raise TrainingError(
            f"the training loss became {loss} at epoch {epoch + 1}, batch {batch + 1}: "
            "training stopped (the run folder keeps the last finished epoch); try a "
            "lower --lr, or no --mixed-precision float16")
    return {key: float(values[-1]) for key, values in result.history.items()}


def _current_lr(model):
    return float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))


def _epoch_row(epoch, logs, val, lr):
    """One row of history.csv, without its timing columns."""
    if not math.isfinite(float(val["loss"])):
        raise TrainingError(f"the validation loss became {val['loss']} at epoch {epoch + 1}: "
                            "training stopped; try a lower --lr")
    val = {key: float(value) for key, value in val.items()}
    return {"epoch": epoch + 1, "loss": logs["loss"], "val_loss": val["loss"],
            "accuracy": logs.get("accuracy"), "dice": logs.get("dice"),
            "val_accuracy": val.get("accuracy"), "val_dice": val.get("dice"), "lr": lr,
            "backend": keras.backend.backend()}


def _validate(model, twin, stats, val, clock, compiled=None):
    """Precise statistics (when `stats` is given, with the `compiled` forward),
    then the validation metrics, on the undistributed `twin` when there is one."""
    evaluator = model if twin is None else twin
    if twin is not None:
        twin.set_weights(model.get_weights())
    if stats is not None:
        with clock.part("precise_bn"):
            recompute_bn_statistics(evaluator, stats, compiled)
            if twin is not None:
                model.set_weights(twin.get_weights())
    with clock.part("validation"):
        build_from_first_batch(evaluator, val)  # the twin's first evaluate
        return evaluator.evaluate(val, return_dict=True, verbose=0)


def _save_epoch(model, state, row, writes, clock, saver, total=None):
    """Best weights when val_loss improves (each epoch, so the checkpoint choice is
    the original's), the resume state when due, history.csv and the curves, handed
    to the background writer; returns the new state. Every worker counts the epochs
    and agrees (`total`: the sum over workers) on the state and on stopping.

    The loop is blocked ("saving" in the row's timing) while the weights are copied
    to the host and while the previous epoch's files are still being written.
    """
    best = state["best"]
    improved = best["val_loss"] is None or row["val_loss"] < best["val_loss"]
    if improved:
        best = {"val_loss": row["val_loss"], "epoch": row["epoch"]}
    state = {**state, "epoch": row["epoch"], "history": state["history"] + [row], "best": best}
    saver.wait()  # the previous epoch's files: a newer save waits for the older one
    writes.cost = saver.state_seconds  # the background writing the schedule bounds
    due = writes.agree(writes.finished(row["epoch"]) and saver.writer, total)
    weights = saver.copy_weights(model, improved, due)
    row.update(clock.row())  # the files' copy of the row: all but the handing over
    saver.write(weights, state, improved, due, final=due and (
        writes.stopping or row["epoch"] >= writes.last_epoch))
    if due:
        writes.written(saver.state_seconds)
    return state


def run_epochs(model, splits, config, state, run_dir, verbose=1, parallel=None, twin=None):
    """Trains from the state's epoch to `config.epochs`, saving after each epoch.

    Args:
        model: keras.Model, compiled, with the state's weights restored.
        splits: dict. "train" and "val" (images, masks).
        config: RunConfig. The run's resolved configuration.
        state: dict or None. The resume state of the last finished epoch.
        run_dir: Path. The run folder.
        verbose: int. Keras progress display: 0 silent, 1 a bar per epoch.
        parallel: DataParallel or None. The engine `fit` runs in.
        twin: keras.Model or None. An undistributed copy that validates.

    Returns:
        dict. The final state (epoch, history, best, lr_schedule).
    """
    run_dir = Path(run_dir)
    train, val, stats = _sequences(splits, config, parallel.shard if parallel else (0, 1))
    feed = parallel.feed(train) if parallel else None
    writer = parallel is None or parallel.is_chief  # the other workers write nothing
    schedule = _schedule(model, state)
    state = state or {"epoch": 0, "history": [], "best": {"val_loss": None, "epoch": None}}
    # Compiled once per batch shape for the whole run.
    compiled = BatchStatistics(model if twin is None else twin) if config.precise_bn else None
    writes = StateSchedule(config.epochs)
    total = parallel.total if parallel else None
    # Leaving the saver waits for its writing, with the signal handlers still in place.
    board = (EpochBoard(run_dir, model, state["history"]) if config.tensorboard and writer
             else contextlib.nullcontext())
    with writes.catching_signals(), EpochSaver(run_dir, writer) as saver, board:
        for epoch in range(state["epoch"], config.epochs):
            clock = PartClock()
            with clock.part("steps"):
                with parallel.fit_scope() if parallel else contextlib.nullcontext():
                    logs = _fit_epoch(model, train, epoch, config.epochs, verbose, feed)
            stats.epoch = epoch
            results = _validate(model, twin, stats if config.precise_bn else None, val,
                                clock, compiled)
            row = _epoch_row(epoch, logs, results, _current_lr(model))
            schedule.on_epoch_end(epoch, {"val_loss": row["val_loss"]})
            state = {**state, "lr_schedule": {"best": schedule.best, "wait": schedule.wait,
                                              "cooldown_counter": schedule.cooldown_counter}}
            with clock.part("saving"):
                state = _save_epoch(model, state, row, writes, clock, saver, total)
            row.update(clock.row())  # in memory: the next state and history have it whole
            if config.tensorboard and writer:
                board.log(row)
            if verbose:
                print(f"epoch {epoch + 1}/{config.epochs}: val_loss {row['val_loss']:.4f}, "
                      f"val_dice {row['val_dice']:.4f}, best epoch {state['best']['epoch']}, "
                      f"{row['seconds']:.1f} s", flush=True)
            if writes.stopping:
                _stop(state, writes, saver, parallel)
    return state


def _stop(state, writes, saver, parallel=None):
    """Stops the run after the epoch just finished, once its state is written (every
    worker waits for the chief's: a scheduler may end the job when one exits)."""
    saver.wait()
    if parallel:
        parallel.check_same(state["epoch"], "the epoch to stop after")
    raise TrainingError(f"stopped by {writes.stop_signal} after epoch {state['epoch']}, "
                        "whose state is saved: run the same command to resume")
