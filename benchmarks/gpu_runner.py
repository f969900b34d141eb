"""The machinery of `gpu_train.py`: child commands timed with their first training
step, their history.csv read back, every figure printed and kept for figures.csv."""
import csv
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

FIRST_STEP = "FIRST_STEP_AT"


def run_command(args, log, timeout, env=None):
    """Runs `python args` from the repository, with `env` added to the environment;
    returns (seconds, first step after start or None, return code). Killed (SIGTERM,
    then SIGKILL) at `timeout`."""
    command = [sys.executable, *map(str, args)]
    log.write(f"\n$ {' '.join(command)}\n")
    log.flush()
    start = time.time()
    child = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, env={**os.environ, **(env or {})})
    first = None
    try:
        for line in _lines(child, start + max(timeout, 1)):
            if line.startswith(FIRST_STEP):
                first = float(line.split()[1]) - start
            log.write(line)
    finally:
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(30)
            except subprocess.TimeoutExpired:
                child.kill()
        child.wait()
    seconds = time.time() - start
    log.write(f"[{seconds:.1f} s, exit {child.returncode}]\n")
    log.flush()
    return seconds, first, child.returncode


def _lines(child, deadline):
    """The child's output lines until it exits or the deadline passes."""
    import selectors

    selector = selectors.DefaultSelector()
    selector.register(child.stdout, selectors.EVENT_READ)
    while time.time() < deadline:
        if selector.select(timeout=1.0):
            line = child.stdout.readline()
            if not line:
                return
            yield line
        elif child.poll() is not None:
            yield from child.stdout  # lines still buffered when it exited
            return


def child_train(argv):
    """Train_Skin_Lesion_Segmentation.main, printing when its first step has finished."""
    from attention_deeplab.training import callbacks

    original = callbacks.NanGuard.on_train_batch_end

    def on_train_batch_end(self, batch, logs=None):
        original(self, batch, logs)  # reads the loss: the step has finished
        if not getattr(callbacks, "_first_step_seen", False):
            callbacks._first_step_seen = True
            print(f"{FIRST_STEP} {time.time():.3f}", flush=True)

    callbacks.NanGuard.on_train_batch_end = on_train_batch_end
    import Train_Skin_Lesion_Segmentation as script

    return script.main(argv)


def read_history(run_dir):
    path = Path(run_dir) / "history.csv"
    if not path.is_file():
        return []
    with open(path) as stream:
        # "backend" stays a name; older files have no such column.
        return [{k: v if k == "backend" else float(v) if v not in ("", None) else None
                 for k, v in row.items()} for row in csv.DictReader(stream)]


def median_of(rows, column, first_epoch=2):
    values = [row[column] for row in rows if row["epoch"] >= first_epoch and row[column] is not None]
    return statistics.median(values) if values else None


class Figures:
    """Every measured figure: printed as it comes, written to figures.csv at the end."""

    def __init__(self, device):
        self.device, self.rows = device, []

    def add(self, name, value, unit, note=""):
        self.rows.append({"figure": name, "value": None if value is None else round(value, 3),
                          "unit": unit, "device": self.device, "note": note})
        shown = "not measured" if value is None else f"{value:.4g} {unit}"
        print(f"{name}: {shown}{'  (' + note + ')' if note else ''}", flush=True)

    def write(self, path):
        with open(path, "w", newline="") as stream:
            writer = csv.DictWriter(stream, fieldnames=["figure", "value", "unit", "device", "note"])
            writer.writeheader()
            writer.writerows(self.rows)


def epoch_figures(figures, label, rows, images):
    """Median steady-state epoch (epochs 2 and later) split into its parts, and images/s."""
    for column in ("seconds", "seconds_steps", "seconds_precise_bn", "seconds_validation",
                   "seconds_saving"):
        figures.add(f"{label} epoch {column}", median_of(rows, column), "s")
    steps, total = median_of(rows, "seconds_steps"), median_of(rows, "seconds")
    figures.add(f"{label} epoch / its steps", total / steps if steps and total else None, "x")
    figures.add(f"{label} training images/s", images / steps if steps else None, "images/s")


# Longest each part may run on the GPU (seconds), inside the overall budget.
class Budget:
    """The seconds left to the whole script, and the most each part may take (`caps`)."""

    def __init__(self, seconds, caps, scale=1):
        self.deadline, self.caps, self.scale = time.time() + seconds, caps, scale

    def timeout(self, part):
        """Seconds the part may take, or 0 when the budget is spent."""
        return max(0.0, min(self.caps[part] * self.scale, self.deadline - time.time()))


def write_isic_arrays(folder, train, val, size):
    """Prepared-array-like uint8 images with a dark disc (the mask) and a split.json."""
    import numpy as np

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:size, :size]
    folder.mkdir(parents=True, exist_ok=True)
    for split, count in (("train", train), ("val", val)):
        images = rng.integers(150, 220, (count, size, size, 3), dtype=np.uint8)
        masks = np.zeros((count, size, size), np.uint8)
        for i in range(count):
            cy, cx = rng.integers(size // 4, 3 * size // 4, 2)
            disc = (yy - cy) ** 2 + (xx - cx) ** 2 < (size // 6) ** 2
            images[i][disc] //= 3
            masks[i][disc] = 255
        np.save(folder / f"data_{split}.npy", images)
        np.save(folder / f"mask_{split}.npy", masks)
    (folder / "split.json").write_text(json.dumps(
        {"dataset": "isic2018", "fingerprint": f"gpu-train-{train}-{val}-{size}"}))
    return folder
