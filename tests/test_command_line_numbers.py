"""Numbers on the command line: a NaN or infinite float is refused by argparse, up front."""
import pytest

import Evaluate_Skin
import Predict_Skin
import Prepare_Folder
import Train_Skin_Lesion_Segmentation as Train
from attention_deeplab.training import TrainingError, train

# Every float option of every script, with the arguments the parser requires besides it.
FLOAT_OPTIONS = [(Train, "--lr", []), (Evaluate_Skin, "--threshold", []),
                 (Predict_Skin, "--threshold", ["--input", "x.jpg", "--out", "out"]),
                 (Prepare_Folder, "--mask-threshold", ["--images", "i", "--masks", "m"])]


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "1e999"])
@pytest.mark.parametrize("script, option, required", FLOAT_OPTIONS,
                         ids=[f"{s.__name__}{o}" for s, o, _ in FLOAT_OPTIONS])
def test_non_finite_float_is_an_argparse_error(script, option, required, value, capsys):
    with pytest.raises(SystemExit) as exit_:
        script.build_parser().parse_args([*required, f"{option}={value}"])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert exit_.value.code == 2
    assert err.startswith(f"{script.build_parser().prog}: error: argument {option}: ")
    assert "finite" in err and repr(value) in err


@pytest.mark.parametrize("script, option, value", [(Train, "--lr", "0"), (Train, "--lr", "-1e-4"),
                                                   (Predict_Skin, "--threshold", "1"),
                                                   (Evaluate_Skin, "--threshold", "-0.1")])
def test_out_of_range_float_is_an_argparse_error(script, option, value, capsys):
    required = ["--input", "x.jpg", "--out", "out"] if script is Predict_Skin else []
    with pytest.raises(SystemExit):
        script.build_parser().parse_args([*required, f"{option}={value}"])
    assert f"argument {option}: " in capsys.readouterr().err


def test_finite_values_parse():
    assert Train.build_parser().parse_args(["--lr", "3e-4"]).lr == 3e-4
    assert Evaluate_Skin.build_parser().parse_args(["--threshold", "0.25"]).threshold == 0.25
    assert Evaluate_Skin.build_parser().parse_args(["--threshold", "auto"]).threshold == "auto"


@pytest.mark.parametrize("lr", [float("nan"), float("inf"), 0.0])
def test_train_refuses_a_non_finite_lr_before_reading_anything(lr, tmp_path):
    with pytest.raises(TrainingError, match="--lr"):
        train(tmp_path / "no_data", tmp_path / "run", lr=lr)
    assert not (tmp_path / "run").exists()
