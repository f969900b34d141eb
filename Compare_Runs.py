"""Compare evaluated runs in one table, with paired statistics against the first run.

    python Compare_Runs.py output/isic2018 output/isic2018_no_attention
    python Compare_Runs.py --group attention=output/a0,output/a1 --group plain=output/p0,output/p1
    python Compare_Runs.py --folds output/ph2_fold0 output/ph2_fold1 ... output/ph2_fold4

Each argument is a run folder (its evaluation/<split>[_tta]/ is read) or an
evaluation folder. Writes table.md, table.csv, per_image_dice.png, stats.json and
report.html to --out (default output/comparison/).
"""
import argparse
import sys

from attention_deeplab.comparison.statistics import N_BOOTSTRAP


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="*", metavar="RUN",
                        help="run folders or evaluation folders; the first is the reference")
    parser.add_argument("--group", action="append", default=[], metavar="NAME=RUN,RUN,...",
                        help="one row for several runs of a method (seeds; folds with --folds); "
                        "repeatable")
    parser.add_argument("--folds", action="store_true",
                        help="the runs (of each group) are cross-validation folds: their "
                        "confusion counts are pooled over every case")
    parser.add_argument("--split", choices=["test", "val"], default="test")
    parser.add_argument("--tta", action="store_true",
                        help="read the test-time-flip evaluations (evaluation/<split>_tta/)")
    parser.add_argument("--allow-different-data", action="store_true",
                        help="compare runs whose data fingerprints differ")
    parser.add_argument("--bootstrap", type=int, default=N_BOOTSTRAP,
                        help="bootstrap resamples (default %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    parser.add_argument("--out", help="output folder (default output/comparison)")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    from attention_deeplab.comparison import ComparisonError, compare_runs

    try:
        compare_runs(runs=args.runs, groups=args.group, folds=args.folds, split=args.split,
                     tta=args.tta, out=args.out, allow_different_data=args.allow_different_data,
                     n_bootstrap=args.bootstrap, seed=args.seed)
    except ComparisonError as error:
        print(f"Compare_Runs.py: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
