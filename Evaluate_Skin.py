"""Evaluate a trained Attention Deeplabv3+ on a prepared split (test by default).

    python Evaluate_Skin.py --dataset isic2018
    python Evaluate_Skin.py --run-dir output/isic2018 --threshold auto --tta
    python Evaluate_Skin.py --weights weights_isic18.hdf5 --data-dir dataset_isic18
    python Evaluate_Skin.py --run-dir output/seed0 --run-dir output/seed1 --tta   # ensemble

Writes metrics.json, per_image.csv, ROC.png, Precision_recall.png, masks/, report.html,
overlays/ and samples.png to <run-dir>/evaluation/<split> (see --out).
"""
import argparse
import sys

from attention_deeplab.arguments import (add_dataset_argument, add_model_override_arguments,
                                      probability)
from attention_deeplab.errors import ProjectError


def threshold_type(text):
    """``auto`` or a probability in [0, 1)."""
    if text == "auto":
        return text
    try:
        return probability(text)
    except argparse.ArgumentTypeError as error:
        raise argparse.ArgumentTypeError(f"expected 'auto' or a probability: {error}") from None


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_dataset_argument(parser, default=None)
    parser.add_argument("--run-dir", action="append",
                        help="training run folder (default output/<dataset>); with --weights, "
                        "a folder without config.json only receives the outputs; repeated: "
                        "the runs' ensemble (mean probability), written to "
                        "<first run>/evaluation/<split>[_tta]_ensemble")
    parser.add_argument("--data-dir", help="prepared arrays (default: the run's data folder)")
    parser.add_argument("--weights", help="weights file (default: the run's best.weights.h5); "
                        "outside a run folder, an authors' checkpoint included, the full network")
    parser.add_argument("--split", choices=["test", "val"], default="test")
    parser.add_argument("--threshold", type=threshold_type, default=0.5,
                        help="lesion where probability > THRESHOLD; 'auto' maximises pooled "
                        "Dice on the validation split (default 0.5)")
    parser.add_argument("--tta", action="store_true",
                        help="average the identity, horizontal and vertical flip predictions")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--save-probabilities", action="store_true",
                        help="also write probabilities.npy (float32, N x H x W)")
    parser.add_argument("--native-resolution", action="store_true",
                        help="score each image at its original size against its original mask "
                        "(data prepared with --official); writes <split>_native/")
    parser.add_argument("--out", help="output folder (default <run-dir>/evaluation/<split>[_tta])")
    return add_model_override_arguments(parser)


def main(argv=None):
    args = build_parser().parse_args(argv)
    from attention_deeplab.evaluation import evaluate

    try:
        report = evaluate(dataset=args.dataset, run_dir=args.run_dir, data_dir=args.data_dir,
                          weights=args.weights, split=args.split, threshold=args.threshold,
                          tta=args.tta, batch_size=args.batch_size,
                          save_probabilities=args.save_probabilities, out=args.out,
                          preset=args.preset, attention=args.attention,
                          output_stride=args.output_stride,
                          native_resolution=args.native_resolution)
    except (FileNotFoundError, ValueError, ProjectError) as error:
        print(f"Evaluate_Skin.py: error: {error}", file=sys.stderr)
        return 1
    return 0 if report is not None else 1


if __name__ == "__main__":
    sys.exit(main())
