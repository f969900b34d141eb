"""Prepares ISIC 2017 (part 1) into data_*.npy, mask_*.npy and split.json.

    python Prepare_ISIC2017.py --data-dir dataset_isic17 --size 256

Ids are sorted and split in order: 1400 train, 200 val, 400 test. The original
sliced [0:1399], [1399:1599], [1599:1999]: 1399/200/400, the 2000th image left out.
The ``*_superpixels.png`` files beside the images are ignored.
"""
import sys

from attention_deeplab.data.cli import build_prepare_parser, prepare_main


def build_parser():
    return build_prepare_parser(
        "isic2017",
        "Prepare the ISIC 2017 lesion segmentation training set (2000 pairs).",
    )


def main(argv=None):
    # The original sliced 1399/200/400 and left out the 2000th image; the default
    # split here is 1400/200/400 (see attention_deeplab/datasets.py).
    return prepare_main("isic2017", build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
