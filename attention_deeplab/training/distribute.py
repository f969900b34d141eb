"""Synchronous data-parallel training through each backend's own engine.

- TensorFlow: `tf.distribute.MirroredStrategy` over the local GPUs (or, where
  none, the logical CPU devices, which is how the tests run it on a CPU).
  Several machines: `TF_CONFIG` (the cluster and this worker's index) on each
  machine and the same command on each; `--data-parallel` then uses
  `tf.distribute.MultiWorkerMirroredStrategy`, the same engine across machines.
- JAX: `keras.distribution.DataParallel` over `keras.distribution.list_devices()`.
  Several machines: the `KERAS_DISTRIBUTION_*` variables of
  `keras.distribution.initialize()` describe the processes, which join through
  `jax.distributed.initialize` (called here, for its heartbeat timeout) when
  `KERAS_DISTRIBUTION_NUM_PROCESSES` is set; the device list then spans them all.
- PyTorch: Keras has no engine for it, so a clear error.
The batch size given is the global batch: it must divide by the device count.
Over several workers each reads its own part of every global batch (see
`ArraySequence`'s `shard`) and only the chief, worker 0, writes the run folder;
all read it, so on several machines it must be a shared folder. Tested with
two CPU worker processes on one machine.
"""
import contextlib
import json
import os

import keras
import numpy as np

from attention_deeplab.errors import TrainingError

# Seconds a TensorFlow collective may wait for a worker before it fails. A
# killed worker is noticed sooner (in about a second in the tests); this bounds
# what that misses. It must exceed the longest gap between two workers' steps:
# the first step's tracing of the full network on a CPU takes minutes.
COLLECTIVE_TIMEOUT = 600
# Seconds without a heartbeat after which JAX's distributed service declares a
# worker dead and aborts the others; JAX lets no timeout be set on its CPU
# collectives, so this is its bound. At JAX's default, 100, the survivor of a
# `kill -9` was aborted 90 s after it had printed the error. Heartbeats come from
# a thread of their own: a worker busy 30 s in Python was not declared dead at 5 s.
HEARTBEAT_TIMEOUT = 20


def _fail(text):
    raise TrainingError(text)


def tf_cluster(environ=os.environ):
    """(workers, this worker's index) from `TF_CONFIG`, or None when it is unset.

    The chief is task `chief` 0 when the cluster has one, else `worker` 0.

    Raises:
        TrainingError: TF_CONFIG is not JSON, or lacks the cluster's addresses or the task.
    """
    text = environ.get("TF_CONFIG", "").strip()
    if not text:
        return None
    try:
        spec = json.loads(text)
    except ValueError as error:
        _fail(f"TF_CONFIG is not valid JSON ({error}); expected "
              '{"cluster": {"worker": ["host1:port", "host2:port"]}, "task": {"type": "worker", "index": 0}}')
    cluster = spec.get("cluster") if isinstance(spec, dict) else None
    task = spec.get("task") if isinstance(spec, dict) else None
    if not isinstance(cluster, dict) or not cluster.get("worker") and not cluster.get("chief"):
        _fail('TF_CONFIG has no coordinator address: "cluster" must list the workers as '
              '{"worker": ["host1:port", "host2:port"]}')
    jobs = [*cluster.get("chief", [])[:1], *cluster.get("worker", [])]
    if not all(isinstance(a, str) and ":" in a for a in jobs) or set(cluster) - {"chief", "worker"}:
        _fail(f"TF_CONFIG's cluster {cluster} must list host:port addresses under "
              '"worker" (and optionally one "chief"), nothing else')
    kind, index = (task or {}).get("type"), (task or {}).get("index")
    first = 1 if cluster.get("chief") and kind == "worker" else 0
    if kind not in cluster or not isinstance(index, int) or not 0 <= index < len(cluster[kind]):
        _fail(f'TF_CONFIG\'s "task" {task} must name this worker: "type" one of '
              f'{sorted(cluster)} and an "index" into its list')
    return len(jobs), first + index


def jax_cluster(environ=os.environ):
    """(processes, this process's id, the coordinator's host:port) from
    `KERAS_DISTRIBUTION_*`, or None when unset.

    Raises:
        TrainingError: a missing or malformed coordinator address, count or id.
    """
    count = environ.get("KERAS_DISTRIBUTION_NUM_PROCESSES", "").strip()
    if not count:
        return None
    addresses = environ.get("KERAS_DISTRIBUTION_JOB_ADDRESSES", "").split(",")
    address = addresses[0].strip()
    if ":" not in address:
        _fail("KERAS_DISTRIBUTION_JOB_ADDRESSES must give the coordinator's address as "
              f"host:port (worker 0's machine), got {address!r}")
    process = environ.get("KERAS_DISTRIBUTION_PROCESS_ID", "").strip()
    if not (count.isdigit() and process.isdigit() and int(process) < int(count)):
        _fail(f"KERAS_DISTRIBUTION_NUM_PROCESSES ({count!r}) and "
              f"KERAS_DISTRIBUTION_PROCESS_ID ({process!r}) must be whole numbers, "
              "the id below the count")
    if len(addresses) not in (1, int(count)):  # as keras.distribution.initialize checks
        _fail(f"KERAS_DISTRIBUTION_JOB_ADDRESSES lists {len(addresses)} addresses for "
              f"{count} processes: give the coordinator's alone, or one per process")
    return int(count), int(process), address


def _check_batch(batch_size, devices, workers):
    where = f"{devices} devices" + (f" of {workers} workers" if workers > 1 else "")
    if batch_size % devices or batch_size < 2 * devices:
        _fail(f"--batch-size {batch_size} does not divide by the {where} of "
              "--data-parallel into at least 2 images each: it is the global batch")


def _tf_strategy(workers):
    import tensorflow as tf

    class MultiWorkerMirrored(tf.distribute.MultiWorkerMirroredStrategy):
        """Reduces nested values one by one, and scalars over no axis. Keras 3's
        `fit` reduces a whole distributed (x, y) batch to build the model, and
        each step's scalar logs over axis 0, both of which the original rejects
        (keras-team/keras#20585: "Attempt to convert a value (PerReplica...")."""

        def reduce(self, reduce_op, value, axis):
            def one(v):
                rank = (v.values[0] if hasattr(v, "values") else tf.convert_to_tensor(v)).shape.rank
                return super(MultiWorkerMirrored, self).reduce(reduce_op, v, axis if rank else None)

            return tf.nest.map_structure(one, value)

    if workers:
        options = tf.distribute.experimental.CommunicationOptions(
            timeout_seconds=COLLECTIVE_TIMEOUT)
        return MultiWorkerMirrored(communication_options=options)
    devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    return tf.distribute.MirroredStrategy(devices=[d.name for d in devices])


def _jax_join(processes, process, address):
    import jax

    # The CPU backend's collectives across processes (GPUs use their own).
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    # What keras.distribution.initialize() does, which cannot pass a timeout,
    # less its shared random seed: `train` seeds every worker alike right after.
    jax.distributed.initialize(address, processes, process,
                               heartbeat_timeout_seconds=HEARTBEAT_TIMEOUT)
    if jax.process_count() != processes:
        _fail(f"only {jax.process_count()} of {processes} processes joined")


def _engine_error(error):
    """Whether `error` is a failed collective or runtime call of the engine."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return isinstance(error, tf.errors.OpError)
    import jax

    # A peer lost mid-collective surfaces as "ValueError: UNKNOWN: Gloo ... failed".
    return isinstance(error, jax.errors.JaxRuntimeError) or "Gloo" in str(error)


class DataParallel:
    """The backend's data-parallel engine over all devices of all workers.

    Build and compile the model in `build_scope()`, run `fit` on `feed(train)`
    in `fit_scope()`. Validation runs on an undistributed twin of the model
    instead, the same on every worker: both engines split every batch evenly
    over the devices, and a validation set rarely divides (ISIC 2018's 259
    images do not divide by 2).

    Args:
        batch_size: int. The global batch size.

    Raises:
        TrainingError: an unsupported backend, a malformed cluster description,
            or a batch size that does not divide by the number of devices.
    """

    def __init__(self, batch_size):
        self.backend = keras.backend.backend()
        self.workers, self.worker = 1, 0
        if self.backend == "tensorflow":
            self.workers, self.worker = tf_cluster() or (1, 0)
            _check_batch(batch_size, self.workers, self.workers)
            self._engine = _tf_strategy(self.workers > 1)
            self.devices = self._engine.num_replicas_in_sync
        elif self.backend == "jax":
            cluster = jax_cluster()
            if cluster:
                _check_batch(batch_size, cluster[0], cluster[0])
                _jax_join(*cluster)
                self.workers, self.worker = cluster[:2]
            devices = keras.distribution.list_devices()
            # Each process reads its own part of the batches (`shard`).
            self._engine = keras.distribution.DataParallel(
                devices=devices, auto_shard_dataset=False)
            self.devices = len(devices)
        else:
            _fail(f"--data-parallel is not available on the {self.backend} backend: use "
                  "KERAS_BACKEND=tensorflow or jax, or train without --data-parallel")
        _check_batch(batch_size, self.devices, self.workers)

    @property
    def is_chief(self):
        """Whether this worker writes the run folder (worker 0)."""
        return self.worker == 0

    @property
    def shard(self):
        """This worker's part of each global batch: (index, count)."""
        return self.worker, self.workers

    def check_same(self, value, what):
        """Raises TrainingError unless every worker passes the same whole
        number; all wait here for the others (a barrier).

        Args:
            value: int. This worker's value.
            what: str. What it is, for the error.
        """
        value = int(value)  # equal values exactly when count * squares == sum ** 2
        count, total, squares = (int(v) for v in self.total([1, value, value * value]))
        if count * squares != total * total:
            _fail(f"the workers disagree on {what} (this worker {value}, their mean "
                  f"{total / count:g}): on several machines --run-dir must be one shared folder")

    def total(self, values):
        """The sum over the workers of each worker's list of whole numbers (a
        collective: every worker calls it)."""
        values = np.asarray(values, np.int64)
        if self.workers == 1:
            return values
        with self.fit_scope():
            if self.backend == "jax":
                from jax.experimental import multihost_utils

                return multihost_utils.process_allgather(values).sum(axis=0)
            import tensorflow as tf

            # The strategy reduces by sum or mean only.
            return np.asarray(self._engine.reduce("SUM", tf.constant(values), axis=None))

    def build_scope(self):
        return self._engine.scope()

    @contextlib.contextmanager
    def fit_scope(self):
        """The scope of `fit`; a lost worker becomes a TrainingError."""
        # A Keras model keeps the tf.distribute strategy it was built in; JAX
        # reads the current distribution when fit starts.
        scope = self._engine.scope() if self.backend == "jax" else contextlib.nullcontext()
        try:
            with scope:
                yield
        except Exception as error:
            if self.workers == 1 or not _engine_error(error):
                raise
            reason = (str(error).strip().splitlines() or [type(error).__name__])[0][:300]
            _fail(f"worker {self.worker} of {self.workers} lost contact with the others "
                  f"during training ({reason}): rerun the same command on every worker "
                  "to resume from the last finished epoch")

    def feed(self, sequence):
        """What `fit` reads: the training ArraySequence `sequence` (this worker's
        shard), or on TensorFlow a dataset of it that the strategy does not split
        again. Given the sequence itself, Keras's TensorFlow trainer reads a batch
        through the loader's threads at every `fit` under a strategy, and each
        epoch then trained on its batches out of order (3..11, 0, 1, 2 of 12); a
        dataset restarts from its first batch."""
        if self.backend != "tensorflow":
            return sequence
        import tensorflow as tf

        local = sequence.batch_size // self.workers
        per_replica = sequence.batch_size // self.devices
        size = tuple(sequence.images.shape[1:3])
        signature = (tf.TensorSpec((None, *size, 3), tf.float32),
                     tf.TensorSpec((None, *size, 1), tf.float32))

        def local_batches(context):
            dataset = tf.data.Dataset.from_generator(
                lambda: (sequence[i] for i in range(len(sequence))), output_signature=signature)
            if per_replica < local:  # several devices on this worker
                dataset = dataset.rebatch(per_replica)
            steps = len(sequence) * local // per_replica
            return dataset.apply(tf.data.experimental.assert_cardinality(steps)).prefetch(2)

        return self._engine.distribute_datasets_from_function(local_batches)
