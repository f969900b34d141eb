"""Train Attention Deeplabv3+ on prepared arrays, with the paper's recipe as defaults.

    python Train_Skin_Lesion_Segmentation.py --dataset isic2018
    python Train_Skin_Lesion_Segmentation.py --dataset ph2 --init-weights output/isic2018/best.weights.h5

Run the same command again after an interruption to resume the run.
"""
import argparse
import sys

from attention_deeplab.arguments import add_dataset_argument, positive_float
from attention_deeplab.locations import default_folders
from attention_deeplab.model.options import PRESETS


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add_dataset_argument(parser)
    add("--data-dir", help="prepared arrays (default dataset_isic18/, dataset_isic17/, dataset_ph2/)")
    add("--run-dir", help="run folder (default output/<dataset>/)")
    add("--epochs", type=int, default=100, help="total epochs (default 100, paper)")
    add("--batch-size", type=int, default=7, help="global batch (default 7, paper)")
    add("--lr", type=positive_float, default=1e-4, help="Adam learning rate (default 1e-4, paper)")
    add("--backbone-weights", default="pascal_voc",
        help="pascal_voc (default, as the original), none, or a path")
    add("--init-weights", help="start from these weights (a run's or an authors' checkpoint)")
    add("--preset", choices=sorted(PRESETS), default="full", help="network size (default full)")
    add("--no-attention", action="store_true", help="the plain Deeplabv3+ ablation")
    add("--output-stride", type=int, choices=(16, 8), default=16)
    add("--augment", action="store_true", help="random flips and 90-degree rotations")
    add("--mixed-precision", choices=("float16", "bfloat16"))
    add("--seed", type=int, default=0)
    add("--data-parallel", action="store_true",
        help="synchronous training over all local accelerators (TensorFlow, JAX); "
        "several machines: see attention_deeplab/training/distribute.py")
    add("--precise-bn", choices=("on", "off", "auto"), default="auto",
        help="recompute batch-norm statistics before each validation (auto: on from scratch)")
    add("--precise-bn-images", type=int, default=512, help="images for those statistics")
    add("--overwrite", action="store_true", help="replace a different run in --run-dir")
    add("--quiet", action="store_true", help="no progress bars")
    add("--tensorboard", action="store_true",
        help="also write the epochs' curves to <run-dir>/tensorboard/ (tensorboard --logdir output)")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    from attention_deeplab.errors import ProjectError
    from attention_deeplab.training import train

    data_dir, run_dir = default_folders(args.dataset)
    try:
        summary = train(
            data_dir=args.data_dir or data_dir, run_dir=args.run_dir or run_dir,
            dataset=args.dataset,
            epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
            backbone_weights=args.backbone_weights, init_weights=args.init_weights,
            preset=args.preset, attention=not args.no_attention,
            output_stride=args.output_stride, augment=args.augment,
            mixed_precision=args.mixed_precision, seed=args.seed,
            data_parallel=args.data_parallel, precise_bn=args.precise_bn,
            precise_bn_images=args.precise_bn_images, overwrite=args.overwrite,
            verbose=0 if args.quiet else 1, tensorboard=args.tensorboard)
    except ProjectError as error:
        print(f"Train_Skin_Lesion_Segmentation.py: error: {error}", file=sys.stderr)
        return 1
    best = summary["best"]
    print(f"{summary['run_dir']}: {summary['epochs_done']} epochs, best val_loss "
          f"{best['val_loss']:.4f} at epoch {best['epoch']} (best.weights.h5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
