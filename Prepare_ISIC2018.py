"""Prepares ISIC 2018 (task 1) into data_*.npy, mask_*.npy and split.json.

    python Prepare_ISIC2018.py --data-dir dataset_isic18 --size 256
    python Prepare_ISIC2018.py --official   # the challenge's 2594/100/1000, in <data-dir>/official

Ids are sorted and split in order: 1815 train, 259 val, 520 test (the paper's).
"""
import sys

from attention_deeplab.data.cli import build_prepare_parser, run_prepare
from attention_deeplab.data.official import add_official_argument, run_official
from attention_deeplab.runs import DATASET_FOLDERS


def build_parser():
    return add_official_argument(build_prepare_parser(
        "Prepare the ISIC 2018 lesion segmentation training set (2594 pairs).",
        DATASET_FOLDERS["isic2018"][0],
    ))


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.official:
        return run_official("isic2018", args)
    return run_prepare("isic2018", args)


if __name__ == "__main__":
    sys.exit(main())
