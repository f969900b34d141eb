"""Segment your own dermoscopic images with a trained model, at each image's own resolution.

    python Predict_Skin.py --run-dir output/isic2018 --input photos/ --out masks/
    python Predict_Skin.py --weights weights_isic18.hdf5 --input "scans/**/*.jpg" --out out/ --tta
    python Predict_Skin.py --run-dir output/ph2_fold0 --run-dir output/ph2_fold1 --input photos/ --out out/
    python Predict_Skin.py --model model.onnx --input photos/ --out masks/

With --model (an .onnx file from Export_Skin.py) it needs only onnxruntime,
numpy and Pillow (requirements-inference.txt): no TensorFlow, no Keras.

Writes <name>_mask.png (0/255, the input's size) and <name>_overlay.png per
image, and predictions.csv (area, bounding box, mean probability) over all.
Unreadable files are reported and skipped; the exit status is then 1.
"""
import argparse
import sys

from attention_deeplab.arguments import add_model_override_arguments, probability


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", action="append", help="training run folder (config.json, "
                        "best.weights.h5); repeated: the runs' ensemble (mean probability)")
    parser.add_argument("--weights", help="weights file (default: the run's best.weights.h5); "
                        "outside a run folder, an authors' checkpoint included, the full network")
    parser.add_argument("--model", help="an exported .onnx model (Export_Skin.py), run with "
                        "onnxruntime instead of --run-dir/--weights")
    parser.add_argument("--input", nargs="+", required=True, metavar="PATH",
                        help="image files (JPEG, PNG, BMP, TIFF), folders or glob patterns "
                        "(quote them; ** recurses)")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--threshold", type=probability, default=0.5,
                        help="lesion where probability > THRESHOLD (default 0.5)")
    parser.add_argument("--tta", action="store_true",
                        help="average the identity, horizontal and vertical flip predictions")
    parser.add_argument("--keep-largest", action="store_true",
                        help="keep only the largest connected component (single lesions)")
    parser.add_argument("--fill-holes", action="store_true", help="fill holes in the mask")
    parser.add_argument("--batch-size", type=int, default=8)
    return add_model_override_arguments(parser)


def main(argv=None):
    args = build_parser().parse_args(argv)
    from attention_deeplab.inference.images import predict_images

    try:
        model = None
        if args.model:
            # Imports onnxruntime only: the deployment path loads neither TensorFlow nor Keras.
            from attention_deeplab.inference.onnx_model import OnnxModel

            model = OnnxModel(args.model)
        summary = predict_images(args.input, args.out, run_dir=args.run_dir, weights=args.weights,
                                 threshold=args.threshold, tta=args.tta,
                                 keep_largest=args.keep_largest, fill_holes=args.fill_holes,
                                 batch_size=args.batch_size, preset=args.preset,
                                 attention=args.attention, output_stride=args.output_stride,
                                 model=model)
    except (FileNotFoundError, ValueError) as error:
        print(f"Predict_Skin.py: error: {error}", file=sys.stderr)
        return 1
    print(f"Segmented {summary['n_images']} images into {summary['out']}/, "
          f"{summary['n_failed']} failed")
    for entry, reason in summary["failed"]:
        print(f"  failed: {entry}: {reason}", file=sys.stderr)
    return 1 if summary["n_failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
