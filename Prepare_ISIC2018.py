"""Prepares ISIC 2018 (task 1) into data_*.npy, mask_*.npy and split.json.

    python Prepare_ISIC2018.py --data-dir dataset_isic18 --size 256

Ids are sorted and split in order: 1815 train, 259 val, 520 test (the paper's).
"""
import sys

from attention_deeplab.data.cli import build_prepare_parser, prepare_main


def build_parser():
    return build_prepare_parser(
        "isic2018",
        "Prepare the ISIC 2018 lesion segmentation training set (2594 pairs).",
    )


def main(argv=None):
    return prepare_main("isic2018", build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
