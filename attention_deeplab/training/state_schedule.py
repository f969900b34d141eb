"""When the resume state is written: after an epoch once writing it costs at most a
tenth of the training since the last one (every epoch, where writing is cheap), at
least every few minutes, after the last epoch, and when SIGINT or SIGTERM asks the
run to stop.

The state (the weights and both Adam moments, about 700 MB for the full network,
synced to disk) took 13 s to write, where a PH2 epoch computes in about 1.5 s on
a GPU (issue 12). It is written by a background thread (background_writer.py),
whose writing the next save waits for: the ratio bounds that writing, the
interval what a kill -9 can lose. A kill -9 loses at most the epochs since the
last state, never more, and never mixes two states (run_folder.py writes each
state whole, then names it). SIGINT (Ctrl-C) or SIGTERM with finished epochs not
yet written lets the current epoch finish and writes its state before stopping;
with none, or at a second signal, the run stops at once, as before. Over several
workers (a cluster scheduler signals them all, or only some) every worker counts
the epochs, and after each one all agree, in one collective, on whether the
chief writes the state and whether to stop: a signal to any worker stops them
all after the same epoch, once the chief has written its state.
"""
import contextlib
import signal
import threading
import time

STATE_INTERVAL_S = 300.0  # at most this long between two resume states
STATE_COST_RATIO = 10.0  # a state is due once training since the last took this x its writing


class StateSchedule:
    """Decides after each epoch whether to write the resume state, and catches stop signals.

    Args:
        last_epoch: int. The run's final epoch (its state is always written).
        interval: float or None. Seconds between states; None: STATE_INTERVAL_S.
    """

    def __init__(self, last_epoch, interval=None):
        self.last_epoch = last_epoch
        self.interval = STATE_INTERVAL_S if interval is None else float(interval)
        self.written_at = time.monotonic()
        self.cost = 0.0  # seconds the last state took to write (none yet: the first is due)
        self.unsaved = 0  # epochs finished since the last state
        self.stop_signal = None  # the name of a signal that asked to stop
        self.stopping = False  # all workers agreed to stop after this epoch

    def finished(self, epoch):
        """Records that `epoch` (the number of epochs done) finished; True when its
        state is due."""
        self.unsaved += 1
        waited = time.monotonic() - self.written_at
        return (epoch >= self.last_epoch or self.stop_signal is not None
                or waited >= min(self.interval, STATE_COST_RATIO * self.cost))

    def agree(self, due, total=None):
        """After each epoch, on every worker: whether the state is to be written (the
        writer's `due`; the others pass False) and whether to stop, the same everywhere.

        Args:
            due: bool. This worker's `finished()` if it writes the run folder, else False.
            total: callable or None. Sums a list of whole numbers over the workers
                (a collective every worker calls); None for one process.

        Returns:
            bool: whether the state of this epoch is written (always when stopping).
        """
        votes = [int(self.stop_signal is not None), int(due)]
        stop, due = (int(v) > 0 for v in (votes if total is None else total(votes)))
        if stop and self.stop_signal is None:
            self.stop_signal = "a signal to another worker"
        self.stopping = stop
        return due or stop

    def written(self, seconds=0.0):
        """Records that a state was written, in `seconds`."""
        self.written_at, self.unsaved, self.cost = time.monotonic(), 0, float(seconds)

    def _handle(self, signum, frame):
        if self.unsaved == 0 or self.stop_signal is not None:
            if signum == signal.SIGINT:
                raise KeyboardInterrupt
            raise SystemExit(128 + signum)
        self.stop_signal = signal.Signals(signum).name
        print(f"\n{self.stop_signal}: finishing this epoch, then writing the resume state "
              f"({self.unsaved} finished epochs are not in it yet); send it again to stop "
              "at once", flush=True)

    @contextlib.contextmanager
    def catching_signals(self):
        """Installs the SIGINT and SIGTERM handlers for the block (main thread only)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
        for sig in previous:
            signal.signal(sig, self._handle)
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
