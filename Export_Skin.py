"""Export a trained model for deployment: ONNX, TensorFlow SavedModel or TFLite (float32).

    python Export_Skin.py --run-dir output/isic2018 --format onnx --out model.onnx
    python Export_Skin.py --run-dir output/isic2018 --format savedmodel --out model_savedmodel
    python Export_Skin.py --run-dir output/isic2018 --format tflite --out model.tflite

The exported file is run in its own runtime on a few test images before the
script returns; a difference from the Keras model above 1e-4 (ONNX, SavedModel)
or 1e-3 (TFLite) fails the export (exit status 1). `Predict_Skin.py --model
model.onnx` then segments images with onnxruntime, numpy and Pillow only.
"""
import argparse
import sys

from attention_deeplab.inference.export import FORMATS


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", help="training run folder (config.json, best.weights.h5)")
    parser.add_argument("--weights", help="weights file (default: the run's best.weights.h5)")
    parser.add_argument("--format", required=True, choices=sorted(FORMATS))
    parser.add_argument("--out", required=True,
                        help="output: a .onnx or .tflite file, or a SavedModel folder")
    parser.add_argument("--check-images", type=int, default=4,
                        help="test images the exported model is checked on (default 4)")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    from attention_deeplab.inference.export import export_run

    try:
        result = export_run(args.run_dir, args.format, args.out, weights=args.weights,
                            n_images=args.check_images)
    except (FileNotFoundError, ValueError) as error:  # ExportCheckError is a ValueError
        print(f"Export_Skin.py: error: {error}", file=sys.stderr)
        return 1
    print(f"Exported {result['format']} to {result['out']}; largest difference from the "
          f"Keras model on {args.check_images} test images: {result['max_difference']:.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
