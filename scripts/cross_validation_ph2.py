"""5-fold cross-validation of PH2 on a synthetic PH2 folder with the tiny preset: the
README's loop (Prepare each fold, train, evaluate, then Compare_Runs.py --folds), with
the same commands and arguments, run in one Python process so that the framework is
imported once.

    python scripts/cross_validation_ph2.py [--work cv_demo] [--count 20] [--size 64]

On real data, run the README's shell loop instead (no synthetic step, the defaults).
"""
import argparse
import sys
from pathlib import Path

import Compare_Runs
import Evaluate_Skin
import Prepare_ph2
import Train_Skin_Lesion_Segmentation
from attention_deeplab.data import synthetic

FOLDS = 5


def run(script, argv):
    """Runs a script's `main` as its command line would; stops at the first failure."""
    status = script.main([str(arg) for arg in argv])
    if status:
        raise SystemExit(f"{Path(script.__file__).name} {' '.join(map(str, argv))}: "
                         f"exit status {status}")


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", default="cv_demo", help="everything goes here (default cv_demo)")
    parser.add_argument("--count", type=int, default=20, help="synthetic cases (default 20)")
    parser.add_argument("--size", type=int, default=64, help="prepared side (default 64)")
    parser.add_argument("--epochs", type=int, default=1, help="epochs per fold (default 1)")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    work = Path(args.work)
    run(synthetic, ["--layout", "ph2", "--count", args.count, "--out", work / "ph2",
                    "--width", 80, 120])
    runs = []
    for fold in range(FOLDS):
        data, run_dir = work / f"ph2_fold{fold}", work / "output" / f"ph2_fold{fold}"
        run(Prepare_ph2, ["--data-dir", work / "ph2", "--out", data, "--size", args.size,
                          "--folds", FOLDS, "--fold", fold, "--seed", 0, "--no-progress"])
        run(Train_Skin_Lesion_Segmentation, [
            "--data-dir", data, "--run-dir", run_dir, "--preset", "tiny",
            "--backbone-weights", "none", "--epochs", args.epochs, "--batch-size", 4,
            "--lr", "1e-3", "--precise-bn-images", 16, "--overwrite", "--quiet"])
        run(Evaluate_Skin, ["--run-dir", run_dir, "--batch-size", 8])
        runs.append(run_dir)
    run(Compare_Runs, ["--folds", *runs, "--out", work / "output" / "comparison"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
