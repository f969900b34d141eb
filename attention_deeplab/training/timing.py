"""Where an epoch's time goes: the parts history.csv reports beside the total."""
import contextlib
import time

# history.csv columns, in order: the training steps (`fit`), the precise
# batch-norm statistics, the validation, and writing files (best weights,
# resume state, history, curves).
PARTS = ("steps", "precise_bn", "validation", "saving")


class PartClock:
    """Adds up wall seconds per part of one epoch; `row()` gives the history columns."""

    def __init__(self):
        self.started = time.perf_counter()
        self.seconds = dict.fromkeys(PARTS, 0.0)
        self._running = None  # (part, start) of the part being timed

    @contextlib.contextmanager
    def part(self, name):
        self._running = (name, time.perf_counter())
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - self._running[1]
            self._running = None

    def row(self):
        """{"seconds": total so far, "seconds_<part>": ...} (a running part counted
        up to now), rounded to 1 us (saving in the background blocks for less than a millisecond)."""
        now = time.perf_counter()
        seconds = dict(self.seconds)
        if self._running is not None:
            seconds[self._running[0]] += now - self._running[1]
        columns = {f"seconds_{name}": round(value, 6) for name, value in seconds.items()}
        return {"seconds": round(now - self.started, 3), **columns}
