"""Command-line arguments that several scripts share, so each is defined once."""
from attention_deeplab.datasets import DATASETS, DEFAULT_DATASET
from attention_deeplab.model.options import PRESETS


def add_dataset_argument(parser, default=DEFAULT_DATASET):
    """--dataset, which picks the default data and run folders (`attention_deeplab.datasets`)."""
    shown = f"; default {DEFAULT_DATASET}" if default is None else f" (default {default})"
    parser.add_argument("--dataset", choices=sorted(DATASETS), default=default,
                        help="picks the default --data-dir and --run-dir" + shown)
    return parser


def add_model_override_arguments(parser):
    """--preset, --no-attention and --output-stride, as Evaluate_Skin.py and
    Predict_Skin.py take them: unset, the run's (or the full network's) options hold."""
    parser.add_argument("--preset", choices=sorted(PRESETS), help="override the model preset")
    parser.add_argument("--no-attention", dest="attention", action="store_const", const=False,
                        help="the plain Deeplabv3+ (ablation) weights")
    parser.add_argument("--output-stride", type=int, choices=[16, 8])
    return parser
