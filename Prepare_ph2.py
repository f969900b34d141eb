"""Prepares PH2 into data_*.npy, mask_*.npy and split.json.

    python Prepare_ph2.py --data-dir dataset_ph2 --size 256 --seed 0

Reads the database's own layout (``PH2 Dataset images/IMD002/...``) anywhere under
the folder, or the flat ``lesions/`` + ``masks/`` layout of the original script.
The sorted ids are permuted with ``numpy.random.default_rng(seed)``, then split
80 train, 20 val, 100 test.
"""
import sys

from attention_deeplab.data.cli import build_prepare_parser, prepare_main


def build_parser():
    return build_prepare_parser(
        "ph2",
        "Prepare the PH2 dermoscopic image database (200 pairs).",
        seed_help="Seed of the permutation applied before the 80/20/100 split.",
    )


def main(argv=None):
    return prepare_main("ph2", build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
