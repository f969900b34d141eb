"""Prepares PH2 into data_*.npy, mask_*.npy and split.json.

    python Prepare_ph2.py --data-dir dataset_ph2 --size 256 --seed 0
    python Prepare_ph2.py --folds 5 --fold 0 --out dataset_ph2/fold0   # cross-validation

Reads the database's own layout (``PH2 Dataset images/IMD002/...``) anywhere under
the folder, or the flat ``lesions/`` + ``masks/`` layout of the original script.
The sorted ids are permuted with ``numpy.random.default_rng(seed)``, then split
80 train, 20 val, 100 test.
"""
import sys

from attention_deeplab.data.cli import build_prepare_parser, run_prepare
from attention_deeplab.runs import DATASET_FOLDERS


def build_parser():
    return build_prepare_parser(
        "Prepare the PH2 dermoscopic image database (200 pairs).",
        DATASET_FOLDERS["ph2"][0],
        seed_help="Seed of the permutation applied before the 80/20/100 split.",
    )


def main(argv=None):
    args = build_parser().parse_args(argv)
    return run_prepare("ph2", args)


if __name__ == "__main__":
    sys.exit(main())
