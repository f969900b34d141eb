"""Prepares any folder of images and one of masks into data_*.npy, mask_*.npy and split.json.

    python Prepare_Folder.py --images photos --masks masks --out data/mine
    python Prepare_Folder.py --images photos --masks masks --split 0.6,0.2,0.2 --seed 1
    python Prepare_Folder.py --images photos --masks masks --folds 5 --fold 0 --out data/mine0

Images and masks pair by file stem; a mask may add _segmentation, _lesion, _mask
(detected) or any --mask-suffix. JPEG, PNG, BMP and TIFF in any mix. A mask pixel is
lesion above half its coding's full scale (0/1 and 0/255 masks alike; RGB: the
brightest channel), or above --mask-threshold; masks are stored as 0/255.
"""
import sys

from attention_deeplab.arguments import finite_float
from attention_deeplab.data.cli import build_prepare_parser, checked_size
from attention_deeplab.data.folder_prepare import prepare_folder
from attention_deeplab.errors import PrepareError


def build_parser():
    parser = build_prepare_parser(
        "folder", "Prepare your own folder of images and folder of masks.",
        seed_help="Seed of the permutation applied before the split.", data_dir=False,
        split_help="Proportions (0.7,0.1,0.2, the default) or counts of train,val,test.")
    add = parser.add_argument
    add("--images", required=True, help="Folder of the images (JPEG, PNG, BMP, TIFF).")
    add("--masks", required=True, help="Folder of the masks, named as their images.")
    add("--mask-suffix", default=None,
        help="What a mask's name adds to its image's, e.g. _GT ('' for nothing). "
        "Default: detected among _segmentation, _lesion, _mask and none")
    add("--mask-threshold", type=finite_float, default=None,
        help="Lesion where the mask value is above this. Default: half the coding's full "
        "scale (0.5 for 0/1 masks, 127.5 for 8-bit, 32767.5 for 16-bit)")
    add("--split-file", default=None,
        help='JSON {"train": [ids], "val": [ids], "test": [ids]} instead of --split.')
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        prepare_folder(
            images=args.images, masks=args.masks, out_dir=args.out, image_size=checked_size(args),
            split=args.split, split_file=args.split_file, seed=args.seed, folds=args.folds,
            fold=args.fold, mask_suffix=args.mask_suffix, mask_threshold=args.mask_threshold,
            workers=args.workers, skip_unpaired=args.skip_unpaired,
            resize="exact" if args.exact_resize else "fast", progress=not args.no_progress)
    except PrepareError as error:
        print(f"Prepare_Folder.py: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: nothing was written; an earlier set is left as it was",
              file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
