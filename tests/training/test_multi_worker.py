"""Two workers on localhost, each running the same Train_Skin_Lesion_Segmentation.py
command on a CPU: TensorFlow (TF_CONFIG, MultiWorkerMirroredStrategy) and JAX
(the KERAS_DISTRIBUTION_* variables, jax.distributed.initialize over gloo).

The stand-in model keeps the launches within about three minutes on two cores
(the tiny preset traces for a minute or more in each worker); what is tested
is the engines' data, weights and files, not the network.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from attention_deeplab.data.disc_arrays import write_disc_arrays
from attention_deeplab.training.distribute import HEARTBEAT_TIMEOUT

# Each worker: the training script, with the stand-in model, recording (outside
# the run folder) the batches it reads, its final weights and any write into
# the run folder (Python's audit events: every write there starts with an open,
# mkdir or rename).
WORKER = textwrap.dedent("""
    import json, os, sys
    from pathlib import Path
    if os.environ.get("LOGICAL_CPUS") and os.environ["KERAS_BACKEND"] == "tensorflow":
        import tensorflow as tf
        tf.config.set_logical_device_configuration(tf.config.list_physical_devices("CPU")[0],
            [tf.config.LogicalDeviceConfiguration()] * int(os.environ["LOGICAL_CPUS"]))
    import numpy as np
    from tests.support.models import standin_model
    from attention_deeplab.data import loader
    from attention_deeplab.training import entry, model_setup as setup
    import Train_Skin_Lesion_Segmentation as script

    if os.environ.get("STATE_INTERVAL_S"):  # after the first state, the interval alone decides
        from attention_deeplab.training import state_schedule
        state_schedule.STATE_INTERVAL_S = float(os.environ["STATE_INTERVAL_S"])
        state_schedule.STATE_COST_RATIO = 1e9
    log = Path(os.environ["WORKER_LOG"])
    log.mkdir(parents=True, exist_ok=True)
    run_dir = str(Path(sys.argv[sys.argv.index("--run-dir") + 1]).resolve())
    writes = []

    def audit(event, args):
        if event == "open":
            mode, flags = args[1], args[2] or 0
            writing = bool(set(str(mode or "")) & set("wax+")) or flags & (os.O_WRONLY | os.O_RDWR)
        else:
            writing = event in ("os.mkdir", "os.rename", "os.remove", "shutil.rmtree")
        paths = [str(a) for a in args[:2] if isinstance(a, (str, bytes, os.PathLike))]
        writes.extend([event, p] for p in paths if writing and p.startswith(run_dir + os.sep))

    sys.addaudithook(audit)
    setup._build = lambda options, weights: standin_model(options)
    getitem = loader.ArraySequence.__getitem__

    def logged(self, index):
        if self.shard[1] > 1 or os.environ.get("LOGICAL_CPUS"):
            if self.shuffle and self.seed == 0:  # the training batches
                with open(log / "batches.jsonl", "a") as stream:
                    indices = self.shard_indices(index)[0].tolist()
                    stream.write(json.dumps([self.epoch, int(index), indices]) + "\\n")
        return getitem(self, index)

    loader.ArraySequence.__getitem__ = logged
    run_epochs = entry.run_epochs

    def saving(model, *args, **kwargs):
        state = run_epochs(model, *args, **kwargs)
        np.savez(log / "weights.npz", *model.get_weights())
        return state

    entry.run_epochs = saving
    code = script.main(sys.argv[1:])
    (log / "writes.json").write_text(json.dumps(writes))
    sys.exit(code)
""")
# How long a worker may wait for a lost peer: its collective fails within a
# second (TensorFlow), or JAX's service aborts it within HEARTBEAT_TIMEOUT;
# 120 s leaves room for a loaded machine.
LOST_WORKER_SECONDS = 120


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def cluster_variables(backend, ports, index):
    """The environment that tells worker `index` of len(ports) where the others are."""
    if backend == "tensorflow":
        return {"TF_CONFIG": json.dumps({"cluster": {"worker": [f"localhost:{p}" for p in ports]},
                                         "task": {"type": "worker", "index": index}})}
    return {"KERAS_DISTRIBUTION_JOB_ADDRESSES": f"localhost:{ports[0]}",
            "KERAS_DISTRIBUTION_NUM_PROCESSES": str(len(ports)),
            "KERAS_DISTRIBUTION_PROCESS_ID": str(index)}


class Workers:
    """Launches the same command on each worker; keeps their processes and logs."""

    def __init__(self, folder, repo_root, backend="tensorflow"):
        self.folder, self.repo_root, self.backend = folder, repo_root, backend

    def start(self, args, name, count=2, env=None):
        ports = free_ports(count)
        processes = []
        for index in range(count):
            log = self.folder / f"{name}-{index}"
            log.mkdir(parents=True, exist_ok=True)
            environ = {"KERAS_BACKEND": self.backend, "TF_CPP_MIN_LOG_LEVEL": "2",
                       "PATH": "/usr/bin:/bin", "WORKER_LOG": str(log), "JAX_PLATFORMS": "cpu",
                       **(cluster_variables(self.backend, ports, index) if count > 1 else {}),
                       **(env or {})}
            processes.append(subprocess.Popen(
                # From the repository's root, which holds the package and tests.support.
                [sys.executable, "-c", WORKER, *args], cwd=self.repo_root, env=environ,
                stdout=open(log / "stdout", "w"), stderr=open(log / "stderr", "w")))
        return processes

    def run(self, args, name, count=2, env=None, timeout=240):
        processes = self.start(args, name, count, env)
        codes = [p.wait(timeout=timeout) for p in processes]
        return codes, [self.output(name, i) for i in range(count)]

    def output(self, name, index):
        log = self.folder / f"{name}-{index}"
        return (log / "stdout").read_text() + (log / "stderr").read_text()

    def batches(self, name, index):
        lines = (self.folder / f"{name}-{index}" / "batches.jsonl").read_text().splitlines()
        return {(e, i): indices for e, i, indices in map(json.loads, lines)}


def train_args(data, run_dir, epochs=2):
    return ["--data-dir", str(data), "--run-dir", str(run_dir), "--epochs", str(epochs),
            "--batch-size", "4", "--preset", "tiny", "--backbone-weights", "none",
            "--lr", "1e-2", "--data-parallel", "--quiet"]


@pytest.fixture(scope="module", params=["tensorflow", "jax"])
def two_workers(request, tmp_path_factory, repo_root):
    """One 2-worker run of 2 epochs, and a single-process run over 2 devices."""
    if request.param == "jax":
        pytest.importorskip("jax", reason="JAX is not installed (requirements-backends.txt)")
    folder = tmp_path_factory.mktemp(f"multi_worker_{request.param}")
    data = write_disc_arrays(folder / "data", {"train": 10, "val": 3})
    workers = Workers(folder, repo_root, request.param)
    codes, outputs = workers.run(train_args(data, folder / "run") + ["--tensorboard"], "run")
    assert codes == [0, 0], outputs[0][-3000:] + outputs[1][-3000:]
    single, output = workers.run(train_args(data, folder / "single"), "single", count=1, env={
        "LOGICAL_CPUS": "2", "XLA_FLAGS": "--xla_force_host_platform_device_count=2"})
    assert single == [0], output[0][-3000:]
    return workers, data, folder


@pytest.mark.slow
def test_multi_worker_one_model(two_workers):
    workers, _, folder = two_workers
    chief, other = (np.load(folder / f"run-{i}" / "weights.npz") for i in (0, 1))
    assert len(chief.files) == len(other.files) > 0
    for key in chief.files:
        np.testing.assert_allclose(chief[key], other[key], atol=1e-6, rtol=0)
    assert "data parallel over 2 devices of 2 worker(s)" in workers.output("run", 1)


@pytest.mark.slow
def test_multi_worker_one_writer(two_workers):
    _, _, folder = two_workers
    written = {os.path.basename(path) for _, path in
               json.loads((folder / "run-0" / "writes.json").read_text())}
    assert {"config.json", "history.csv", "training_curves.png", "state.json"} <= written
    assert any(name.startswith("state-") for name in written)
    assert any(name.startswith(".best.weights") or name == "best.weights.h5" for name in written)
    assert json.loads((folder / "run-1" / "writes.json").read_text()) == []
    assert len((folder / "run" / "history.csv").read_text().splitlines()) == 3
    # TensorFlow writes the event files (no Python audit event): one writer, one file.
    for part in ("train", "validation"):
        assert len(list((folder / "run" / "tensorboard" / part).glob("events.out.*"))) == 1


@pytest.mark.slow
def test_multi_worker_same_batches(two_workers):
    from attention_deeplab.data.loader import ArraySequence

    workers, data, _ = two_workers
    images = np.load(data / "data_train.npy", mmap_mode="r")
    single = ArraySequence(images, images, 4, shuffle=True, seed=0, min_batch=4)
    shards = [workers.batches("run", i) for i in (0, 1)]
    for epoch in (0, 1):
        single.epoch = epoch
        for index in range(len(single)):
            first, second = shards[0][epoch, index], shards[1][epoch, index]
            assert len(first) == len(second) == 2
            assert sorted(first + second) == sorted(single.batch_indices(index).tolist())
    assert set(shards[0]) == set(shards[1]) == {(e, i) for e in (0, 1) for i in range(2)}


@pytest.mark.slow
def test_multi_worker_loss_equals_single_process(two_workers):
    """The same global batch of 4 over 2 devices, in two processes or one. Batch
    norm normalises the whole global batch of 4 in both (synchronized across
    workers and devices), so only float32 rounding may differ: 1e-5 relative,
    ~100 ulps. That this equals one device: test_data_parallel_batch_norm.py."""
    _, _, folder = two_workers
    rows = [(folder / name / "history.csv").read_text().splitlines()[1].split(",")
            for name in ("run", "single")]
    assert float(rows[0][1]) == pytest.approx(float(rows[1][1]), rel=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_multi_worker_resume_after_kill(backend, tmp_path, repo_root, make_data):
    if backend == "jax":
        pytest.importorskip("jax", reason="JAX is not installed (requirements-backends.txt)")
    data = make_data(tmp_path / "data", train=24, val=3)
    workers = Workers(tmp_path, repo_root, backend)
    args = train_args(data, tmp_path / "run")
    processes = workers.start(args, "first")
    history = tmp_path / "run" / "history.csv"
    batches = tmp_path / "first-1" / "batches.jsonl"
    deadline = time.monotonic() + 240
    # Epoch 2 has begun once worker 1 reads its batches (history.csv is written in
    # the background, and can come after a short epoch 2).
    while not (batches.is_file() and any(
            line.startswith("[1, ") for line in batches.read_text().splitlines())):
        assert time.monotonic() < deadline and processes[0].poll() is None, \
            workers.output("first", 0)[-3000:]
        time.sleep(0.05)
    processes[1].send_signal(signal.SIGKILL)  # during epoch 2
    killed = time.monotonic()
    code = processes[0].wait(timeout=LOST_WORKER_SECONDS)
    seconds = time.monotonic() - killed
    print(f"{backend}: the chief exited with {code} {seconds:.1f} s after the kill")
    assert "lost contact with the others" in workers.output("first", 0)
    if backend == "tensorflow":
        assert code == 1
    else:
        # The error is printed at once; then, at exit, JAX's distributed service
        # waits for the dead worker's heartbeat and aborts the chief (-6, SIGABRT)
        # once HEARTBEAT_TIMEOUT has passed since the last one: 11-19 s after the
        # kill here, 90 s at JAX's default. Its jax_enable_recoverability flag gave
        # exit 1 after 1.5 s, but it lets a job run on after a worker dies: one lost
        # without its connections closing would leave the others waiting unbounded.
        assert code != 0 and seconds < 2 * HEARTBEAT_TIMEOUT
    # The epoch's numbers (its timing columns may differ: the resume state's copy of
    # the row leaves out the time the state itself took to write).
    first_epoch = history.read_text().splitlines()[1].split(",")[:8]

    codes, outputs = workers.run(args, "again")
    assert codes == [0, 0], outputs[0][-3000:] + outputs[1][-3000:]
    lines = history.read_text().splitlines()
    assert len(lines) == 3 and lines[1].split(",")[:8] == first_epoch
    assert {epoch for epoch, _ in workers.batches("again", 1)} == {1}


@pytest.mark.slow
@pytest.mark.parametrize("backend,signalled", [("tensorflow", (0, 1)), ("jax", (0, 1)),
                                               ("tensorflow", (1,))])
def test_multi_worker_sigterm_saves_the_finished_epoch(backend, signalled, tmp_path, repo_root,
                                                        make_data):
    """A scheduler's SIGTERM to every worker (or to worker 1 alone) while epoch 2
    is not in the state: all finish the epoch, the chief writes its state, all stop."""
    if backend == "jax":
        pytest.importorskip("jax", reason="JAX is not installed (requirements-backends.txt)")
    data = make_data(tmp_path / "data", train=24, val=3)
    workers = Workers(tmp_path, repo_root, backend)
    args = train_args(data, tmp_path / "run", epochs=6)
    # The state of epoch 1 only; later ones at the end or on a signal.
    processes = workers.start(args, "first", env={"STATE_INTERVAL_S": "3600"})
    history = tmp_path / "run" / "history.csv"
    deadline = time.monotonic() + 240
    while not (history.is_file() and len(history.read_text().splitlines()) >= 3):
        assert time.monotonic() < deadline and processes[0].poll() is None, \
            workers.output("first", 0)[-3000:]
        time.sleep(0.05)
    for index in signalled:  # during epoch 3 (or its saving)
        processes[index].send_signal(signal.SIGTERM)
    codes = [p.wait(timeout=LOST_WORKER_SECONDS) for p in processes]
    state = json.loads((tmp_path / "run" / "state.json").read_text())
    outputs = [workers.output("first", i) for i in (0, 1)]
    assert 3 <= state["epoch"] < 6, outputs[0][-3000:] + outputs[1][-3000:]
    for index, output in enumerate(outputs):
        reason = "SIGTERM" if index in signalled else "a signal to another worker"
        assert (f"stopped by {reason} after epoch {state['epoch']}, whose state is saved"
                in output), output[-3000:]
        assert codes[index] == 1 and "lost contact" not in output
    assert len(history.read_text().splitlines()) == state["epoch"] + 1

    codes, outputs = workers.run(args, "again")
    assert codes == [0, 0], outputs[0][-3000:] + outputs[1][-3000:]
    assert len(history.read_text().splitlines()) == 7
    assert {epoch for epoch, _ in workers.batches("again", 1)} == set(range(state["epoch"], 6))
