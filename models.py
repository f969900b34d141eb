"""Attention Deeplabv3+ (the original's `models.py`), and a checkpoint converter.

    from models import Deeplabv3pa
    model = Deeplabv3pa(weights=None, input_shape=(256, 256, 3))

    python models.py --convert weight_isic18_deeplab_v3pa isic18.keras
"""
import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before Keras imports TensorFlow

from attention_deeplab.model import (  # noqa: E402,F401 (re-exported for `import models`)
    BilinearResize, Deeplabv3pa, build_from_options, load_pascal_voc, load_weights_into,
    model_options)
from attention_deeplab.model.convert import convert_checkpoint  # noqa: E402


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--convert", nargs=2, metavar=("AUTHORS_FILE", "OUT.keras"),
                        required=True,
                        help="write an authors' Keras-2 checkpoint as a Keras 3 model")
    parser.add_argument("--input-size", nargs=2, type=int, metavar=("H", "W"),
                        help="input height and width (default: from the file, else 256 256)")
    parser.add_argument("--preset", choices=("full", "tiny"), default="full")
    parser.add_argument("--no-attention", action="store_true",
                        help="the checkpoint is of the plain Deeplabv3+ ablation")
    parser.add_argument("--output-stride", type=int, choices=(8, 16), default=16)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    source, destination = args.convert
    input_shape = (*args.input_size, 3) if args.input_size else None
    try:
        options = convert_checkpoint(source, destination, input_shape=input_shape,
                                     preset=args.preset, attention=not args.no_attention,
                                     output_stride=args.output_stride)
    except (OSError, ValueError) as error:
        print(f"models.py: error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {destination} ({options})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
