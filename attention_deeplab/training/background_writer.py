"""Writing an epoch's files while the next epoch trains.

The training loop is blocked only while the weights are copied to the host, in
one batched transfer (host_weights.py). A thread then writes best.weights.h5,
the resume state, history.csv and the curves, each file whole and renamed
(run_folder.py), so a kill -9 during that writing leaves the previous files.
One epoch's writing at a time, in order: a newer save waits for the older one,
so two states never mix and a state's link to best.weights.h5 is its epoch's.
An error in the thread is raised in the training loop, at the next save or at
the end; a run (or a stop on a signal) ends only once everything is written.

The saving (4-8 s an epoch, mostly the state and best weights) was most of a
steady PH2 epoch on an H100 (issue 22); see benchmarks/bench_saving.py.
"""
import copy
import math
import threading
import time
from pathlib import Path

from attention_deeplab.locations import BEST_WEIGHTS, CURVES_NAME
from attention_deeplab.training import run_folder
from attention_deeplab.training.curves import plot_training_curves
from attention_deeplab.training.host_weights import HostWeights

# The curves take a few tenths of a second of Python (the GIL the loop needs
# too): drawn at the first epoch, then at most this often, and at the end.
CURVES_INTERVAL_S = 60.0


class BackgroundWriter:
    """Runs jobs one at a time in a thread of their own, in the order submitted."""

    def __init__(self):
        self._thread = None
        self._error = None

    def submit(self, job):
        """Runs `job()` in the background once the previous job has finished."""
        self.wait()
        # A daemon: a second signal's "stop at once" leaves a temporary file, no more.
        self._thread = threading.Thread(target=self._run, args=(job,), daemon=True,
                                        name="run-folder-writer")
        self._thread.start()

    def _run(self, job):
        try:
            job()
        except BaseException as error:  # noqa: B036 -- raised again in the loop
            self._error = error

    def wait(self):
        """Waits for the job in progress; raises its error here, in the caller's thread."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        error, self._error = self._error, None
        if error is not None:
            raise error


class EpochSaver:
    """Writes each epoch's files in the background: only on the `writer` (the
    chief of several workers); the others only keep their place in the protocol.

    Use as a context manager around the epochs: leaving it waits for the writing.

    Args:
        run_dir: Path. The run folder.
        writer: bool. Whether this process writes the run folder.
    """

    def __init__(self, run_dir, writer=True):
        self.run_dir, self.writer = Path(run_dir), writer
        self.background = BackgroundWriter()
        self.state_seconds = 0.0  # how long the last resume state took to write
        self._curves_at = -math.inf

    def copy_weights(self, model, best, state):
        """The host copy the epoch's files need (None: no weights file is due)."""
        if not self.writer or not (best or state):
            return None
        return HostWeights(model, optimizer=state)

    def write(self, weights, state, best, due, final):
        """Hands the epoch's files to the writer thread and returns: best.weights.h5
        when `best`, the resume state of `state` when `due`, history.csv, and the
        curves when their interval has passed or at the `final` epoch."""
        if not self.writer:
            return
        state = copy.deepcopy(state)  # the loop goes on updating its rows
        curves = final or time.monotonic() - self._curves_at >= CURVES_INTERVAL_S
        if curves:
            self._curves_at = time.monotonic()
        self.background.submit(lambda: self._write(weights, state, best, due, curves))

    def _write(self, weights, state, best, due, curves):
        if best:
            run_folder.save_weights_atomic(weights, self.run_dir / BEST_WEIGHTS)
        if due:
            started = time.monotonic()
            run_folder.save_state(self.run_dir, weights, state)
            self.state_seconds = time.monotonic() - started
        if curves:
            plot_training_curves(state["history"], self.run_dir / CURVES_NAME)
        run_folder.write_history(self.run_dir, state["history"])

    def wait(self):
        """Waits until everything handed over is written; raises a writing error."""
        self.background.wait()

    def __enter__(self):
        return self

    def __exit__(self, kind, error, trace):
        if kind is None:
            self.wait()
            return
        try:  # what was handed over is written even when the loop failed
            self.wait()
        except Exception as writing:  # noqa: BLE001 -- the loop's own error goes first
            print(f"writing the run folder failed too: {writing}", flush=True)
