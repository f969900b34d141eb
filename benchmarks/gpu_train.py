"""The paper's recipe on one GPU, timed through the project's own scripts (issue 12).

Run on the lent GPU machine with `bash benchmarks/gpu_train.sh` (JAX, no
TensorFlow; it puts the repository on PYTHONPATH), or here on the CPU at a tiny
size to prove it works:

    PYTHON=.venv/bin/python OUT=/tmp/gpu_train bash benchmarks/gpu_train.sh --smoke

Parts, in this order, each only while the time budget lasts (--budget-s):
1. PH2-sized (80/20/100 synthetic images through Prepare_ph2.py), the paper's
   command with `--backbone-weights none`: 100 epochs at batch 7, float32, from
   an empty compilation cache (cold);
2. the same command resumed for one more epoch (warm);
3. Evaluate_Skin.py on its 100 test images, twice (first, then warm);
4. the trained model's first 8 test predictions on the GPU against the CPU
   (`gpu_agreement.py`: the stripes seen after 3 epochs before this change);
5. ISIC 2018-sized arrays (1815 training, 259 validation images): 2 epochs at
   batch 7 float32, then at 32 and 64 with bfloat16 (`--precise-bn off`: the
   statistics do not touch the steps' time).
Prints every figure and writes, under --out: gpu_train.log (every command's
output), figures.csv, history_ph2.csv, history_isic.csv, training_curves.png
and samples.png of the PH2 run, and agreement.png.
"""
import argparse
import csv
import os
import shutil
import sys
from pathlib import Path

from gpu_runner import (
    Budget,
    Figures,
    child_train,
    epoch_figures,
    read_history,
    run_command,
    write_isic_arrays,
)


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true",
                        help="tiny preset, 64x64, few images and epochs: proves the script on a CPU")
    parser.add_argument("--out", default=os.environ.get("OUT", "gpu_train_out"),
                        help="folder of the logs, CSV and PNG (default $OUT)")
    parser.add_argument("--work", default="/tmp/gpu_train_work", help="data, runs and cache")
    parser.add_argument("--budget-s", type=float, default=None,
                        help="no part starts after this many seconds; each is cut at the rest "
                        "(default 540, with --smoke 3600)")
    parser.add_argument("--steady-only", action="store_true",
                        help="only steady-state epochs, for a short device session: 77 training "
                        "and 14 validation images (whole batches of 7: one compiled shape each), "
                        "as many epochs as the budget allows")
    return parser


def sizes(smoke):
    """Image side, preset, PH2 epochs, ISIC-sized split and its batch settings."""
    if smoke:
        return {"size": 64, "preset": "tiny", "ph2_epochs": 3, "isic": (30, 9),
                "isic_runs": [(7, None), (8, "bfloat16")]}
    return {"size": 256, "preset": "full", "ph2_epochs": 100, "isic": (1815, 259),
            "isic_runs": [(7, None), (32, "bfloat16"), (64, "bfloat16")]}


def prepare_ph2(work, size, log):
    """200 synthetic PH2 cases through Prepare_ph2.py (80/20/100, as the paper)."""
    from attention_deeplab.data import synthetic

    raw, prepared = work / "ph2_raw", work / "ph2"
    synthetic.generate("ph2", 200, raw, seed=12, width_range=(size + 16, size + 96))
    run_command(["Prepare_ph2.py", "--data-dir", raw, "--out", prepared, "--size", size,
                 "--no-progress"], log, timeout=600)
    return prepared


CAPS = {"ph2": 300, "resume": 60, "evaluate": 75, "agreement": 60, "isic": 120,
        "steady": 3600}


def train_args(data_dir, run_dir, dataset, preset, *extra):
    return ["benchmarks/gpu_train.py", "--child-train", "--dataset", dataset, "--data-dir", data_dir,
            "--run-dir", run_dir, "--backbone-weights", "none", "--preset", preset, "--quiet",
            *map(str, extra)]


def ph2_parts(figures, budget, work, setup, log):
    """The cold 100-epoch run, its resume and two evaluations; returns the run folder."""
    data, run = prepare_ph2(work, setup["size"], log), work / "ph2_run"
    epochs = setup["ph2_epochs"]
    timeout = budget.timeout("ph2")
    seconds, first, code = run_command(train_args(data, run, "ph2", setup["preset"], "--epochs", epochs),
                                       log, timeout)
    rows = read_history(run)
    done = f"{len(rows)} of {epochs} epochs" + ("" if code == 0 else f", cut at {timeout:.0f} s")
    figures.add(f"PH2 {epochs} epochs, cold: command to final best.weights.h5",
                seconds if code == 0 else None, "s", done)
    figures.add("PH2 first step, cold", first, "s")
    figures.add("PH2 epoch 1 (compilation included)", rows[0]["seconds"] if rows else None, "s")
    epoch_figures(figures, "PH2", rows, 80)
    if not rows or not budget.timeout("resume"):
        return run, data
    more = ["--epochs", len(rows) + 1]
    seconds, first, code = run_command(train_args(data, run, "ph2", setup["preset"], *more),
                                       log, budget.timeout("resume"))
    figures.add("PH2 resumed run, warm: first step", first, "s")
    figures.add("PH2 resumed run, warm: command to exit (one epoch)", seconds if code == 0 else None, "s")
    for label in ("first", "warm"):
        timeout = budget.timeout("evaluate")
        if not timeout:
            break
        seconds, _, code = run_command(["Evaluate_Skin.py", "--dataset", "ph2", "--run-dir", run,
                                        "--data-dir", data], log, timeout)
        figures.add(f"Evaluate_Skin.py on 100 test images, {label}", seconds if code == 0 else None, "s")
    return run, data


def agreement_part(figures, budget, work, run, data, log):
    """The same 8 test predictions on the default device and on the CPU (stripes?)."""
    import gpu_agreement
    import numpy as np

    stacks = {}
    for name, env in (("accelerator", None), ("cpu", {"JAX_PLATFORMS": "cpu"})):
        timeout = budget.timeout("agreement")
        path = work / f"agreement_{name}.npy"
        if timeout and (run / "best.weights.h5").is_file():
            run_command(["benchmarks/gpu_train.py", "--child-predict", run, data, path], log,
                        timeout, env)
        if path.is_file():
            stacks[name] = np.load(path)
    if len(stacks) < 2:
        figures.add("accelerator vs CPU predictions", None, "", "time budget spent or no weights")
        return
    for name, (value, unit) in gpu_agreement.compare(stacks["accelerator"], stacks["cpu"]).items():
        figures.add(name, value, unit, f"first {len(stacks['cpu'])} PH2 test images")
    gpu_agreement.save_sheet(work / "agreement.png", stacks["accelerator"], stacks["cpu"])


def isic_parts(figures, budget, work, setup, log):
    """Two epochs on ISIC 2018-sized arrays per batch setting; returns their histories."""
    train, val = setup["isic"]
    data = write_isic_arrays(work / "isic", train, val, setup["size"])
    histories = []
    for batch, precision in setup["isic_runs"]:
        label = f"ISIC-sized batch {batch} {precision or 'float32'}"
        timeout = budget.timeout("isic")
        if not timeout:
            figures.add(label, None, "", "time budget spent")
            continue
        extra = ["--epochs", 2, "--batch-size", batch]
        if precision:
            extra += ["--mixed-precision", precision, "--precise-bn", "off"]
        run = work / f"isic_b{batch}"
        _, first, _ = run_command(train_args(data, run, "isic2018", setup["preset"], *extra), log, timeout)
        rows = read_history(run)
        figures.add(f"{label}: first step (cache warm from earlier parts)", first, "s")
        epoch_figures(figures, label, rows, train)
        histories += [{"run": label, **row} for row in rows]
    return histories


def steady_part(figures, budget, work, setup, log):
    """Epochs of the paper's recipe on PH2-like data with no partial batch, until the
    budget ends the run; returns its folder."""
    data, run = write_isic_arrays(work / "steady", 77, 14, setup["size"]), work / "steady_run"
    _, first, _ = run_command(train_args(data, run, "isic2018", setup["preset"], "--epochs", 1000),
                              log, budget.timeout("steady"))
    rows = read_history(run)
    figures.add("77/14 first step, cold", first, "s")
    figures.add("77/14 epoch 1 (compilation included)", rows[0]["seconds"] if rows else None, "s",
                f"{len(rows)} epochs in the budget")
    epoch_figures(figures, "77/14", rows, 77)
    return run


def write_outputs(out, figures, ph2_run, isic_rows):
    figures.write(out / "figures.csv")
    for source, name in ((ph2_run / "history.csv", "history_ph2.csv"),
                         (ph2_run / "training_curves.png", "training_curves.png"),
                         (ph2_run / "evaluation" / "test" / "samples.png", "samples.png"),
                         (ph2_run.parent / "agreement.png", "agreement.png")):
        if source.is_file():
            shutil.copyfile(source, out / name)
    if isic_rows:
        columns = list(dict.fromkeys(key for row in isic_rows for key in row))
        with open(out / "history_isic.csv", "w", newline="") as stream:
            writer = csv.DictWriter(stream, fieldnames=columns)
            writer.writeheader()
            writer.writerows(isic_rows)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child-train"]:
        return child_train(argv[1:])
    if argv[:1] == ["--child-predict"]:
        import gpu_agreement

        return gpu_agreement.predict_first(*argv[1:4])
    args = build_parser().parse_args(argv)
    if args.budget_s is None:
        args.budget_s = 3600.0 if args.smoke else 540.0
    out, work = Path(args.out), Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True)
    # An empty cache: the first run is cold, later ones find what it compiled.
    os.environ["JAX_COMPILATION_CACHE_DIR"] = str(work / "jax-cache")
    os.environ.pop("ATTENTION_DEEPLAB_JAX_CACHE", None)
    device = os.environ.get("GPU_NAME") or "CPU"
    setup = sizes(args.smoke)
    print(f"gpu_train: {setup['preset']} network at {setup['size']}x{setup['size']}, "
          f"{os.environ.get('KERAS_BACKEND', 'tensorflow')} on {device}, budget {args.budget_s:.0f} s",
          flush=True)
    figures = Figures(device)
    budget = Budget(args.budget_s, CAPS, scale=20 if args.smoke else 1)
    with open(out / "gpu_train.log", "w") as log:
        if args.steady_only:
            run = steady_part(figures, budget, work, setup, log)
            figures.write(out / "figures.csv")
            if (run / "history.csv").is_file():
                shutil.copyfile(run / "history.csv", out / "history_steady.csv")
            return 0
        ph2_run, ph2_data = ph2_parts(figures, budget, work, setup, log)
        agreement_part(figures, budget, work, ph2_run, ph2_data, log)
        isic_rows = isic_parts(figures, budget, work, setup, log)
    write_outputs(out, figures, ph2_run, isic_rows)
    print(f"\nwritten to {out}: " + ", ".join(sorted(p.name for p in out.iterdir())), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
