"""The command line shared by the three Prepare scripts."""
import argparse
import sys

from attention_deeplab.data.image_files import parse_size
from attention_deeplab.data.prepare import prepare_dataset
from attention_deeplab.datasets import DATASETS
from attention_deeplab.errors import PrepareError

# The network's sides must divide by its output stride, 16 (or 8, which 16 covers).
SIZE_MULTIPLE = 16


def build_prepare_parser(dataset, description, seed_help="Recorded in split.json.",
                         data_dir=True, split_help="Split sizes overriding the paper's, e.g. "
                         "1815,259,520."):
    """The arguments every Prepare script takes.

    Args:
        dataset: str. The dataset's name; its default folder is used when
            --data-dir is absent.
        description: str. What the script prepares.
        seed_help: str. What --seed does for this dataset.
        data_dir: bool. Take --data-dir (the folder of a published layout).
        split_help: str. What --split takes.

    Returns:
        argparse.ArgumentParser.
    """
    parser = argparse.ArgumentParser(description=description)
    if data_dir:
        parser.add_argument("--data-dir", default=DATASETS[dataset].data_dir,
                            help="The unpacked dataset. Default: %(default)s")
    parser.add_argument("--out", default=None if data_dir else DATASETS[dataset].data_dir,
                        help="Where to write the arrays and split.json. Default: "
                        + ("--data-dir" if data_dir else "%(default)s"))
    parser.add_argument("--size", type=int, nargs="+", default=[256], metavar="N",
                        help="Output size: one number (square) or H W, multiples of "
                        f"{SIZE_MULTIPLE}. Default: 256")
    parser.add_argument("--any-size", action="store_true",
                        help=f"Allow a --size that is not a multiple of {SIZE_MULTIPLE} "
                        "(arrays that the network cannot take).")
    parser.add_argument("--split", default=None, metavar="TRAIN,VAL,TEST", help=split_help)
    parser.add_argument("--seed", type=int, default=0, help=seed_help + " Default: 0")
    parser.add_argument("--workers", type=int, default=None,
                        help="Parallel decoding threads. Default: all cores")
    parser.add_argument("--skip-unpaired", action="store_true",
                        help="Leave out images without masks and masks without images.")
    parser.add_argument("--exact-resize", action="store_true",
                        help="Decode every JPEG fully and resize images and masks with plain "
                             "bilinear, as the original did (slower; recorded in split.json).")
    parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")
    parser.add_argument("--folds", type=int, default=None, metavar="K",
                        help="Cross-validation: K folds drawn with --seed (with --fold).")
    parser.add_argument("--fold", type=int, default=None, metavar="I",
                        help="The fold to prepare, 0..K-1: its cases are the test split.")
    return parser


def checked_size(args):
    """--size as (height, width); sides the network cannot take are refused without --any-size."""
    size = parse_size(args.size)
    if not args.any_size and (size[0] % SIZE_MULTIPLE or size[1] % SIZE_MULTIPLE):
        raise PrepareError(
            f"--size {' '.join(map(str, args.size))}: the network takes sides that are "
            f"multiples of {SIZE_MULTIPLE} (its output stride), e.g. 256 or 224; pass "
            "--any-size to write these arrays anyway")
    return size


def prepare_main(dataset, parser, argv=None):
    """Parses a Prepare script's command line and prepares `dataset`; returns the exit status.

    Args:
        dataset: str. The dataset's name in `attention_deeplab.datasets.DATASETS`.
        parser: argparse.ArgumentParser. From `build_prepare_parser`.
        argv: list of str or None. The arguments; None reads sys.argv.
    """
    args = parser.parse_args(argv)
    try:
        size = checked_size(args)
        prepare_dataset(
            dataset=dataset, data_dir=args.data_dir, out_dir=args.out,
            image_size=size, split=args.split, seed=args.seed, workers=args.workers,
            skip_unpaired=args.skip_unpaired, progress=not args.no_progress,
            folds=args.folds, fold=args.fold,
            resize="exact" if args.exact_resize else "fast",
        )
    except PrepareError as error:
        print(f"{DATASETS[dataset].prepare_script}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: nothing was written; an earlier set is left as it was",
              file=sys.stderr)
        return 130
    return 0
