"""Cross-validation folds: --folds K --fold I on the Prepare scripts."""
import json

import numpy as np
import pytest

import Prepare_ISIC2018
import Prepare_ph2
from attention_deeplab.data import prepare_dataset
from attention_deeplab.errors import PrepareError
from attention_deeplab.data.folds import fold_split
from attention_deeplab.datasets import DATASETS
from attention_deeplab.run_config import RunConfig
from attention_deeplab.training.data import data_fold

QUIET = {"progress": False, "say": lambda message: None, "workers": 1}
DEFAULT_SPLIT = DATASETS["ph2"].paper_split  # 80/20/100
PH2_IDS = [f"IMD{i:03d}" for i in range(1, 201)]


def test_ph2_five_folds_test_every_case_once_in_the_papers_proportion():
    splits = [fold_split(PH2_IDS, DEFAULT_SPLIT, 5, fold, seed=0) for fold in range(5)]
    tested = [image_id for split in splits for image_id in split["test"]]
    assert sorted(tested) == PH2_IDS  # every case tested, and only once
    for split in splits:
        assert [len(split[name]) for name in ("train", "val", "test")] == [128, 32, 40]
        assert sorted(split["train"] + split["val"] + split["test"]) == PH2_IDS
    order = np.random.default_rng(0).permutation(200)
    assert splits[2]["test"] == sorted(PH2_IDS[i] for i in order[80:120])


def test_folds_are_seeded():
    assert fold_split(PH2_IDS, DEFAULT_SPLIT, 5, 3, 1) == fold_split(PH2_IDS, DEFAULT_SPLIT,
                                                                     5, 3, 1)
    assert fold_split(PH2_IDS, DEFAULT_SPLIT, 5, 3, 1) != fold_split(PH2_IDS, DEFAULT_SPLIT,
                                                                     5, 3, 2)


def test_uneven_folds_differ_by_one_and_isic_keeps_its_proportion():
    ids = [f"ISIC_{i:07d}" for i in range(2594)]
    sizes = {len(fold_split(ids, (1815, 259, 520), 5, k)["test"]) for k in range(5)}
    assert sizes == {518, 519}
    split = fold_split(ids, (1815, 259, 520), 5, 0)
    assert len(split["val"]) == round((2594 - 519) * 259 / 2074)


def test_prepare_records_the_fold_and_training_copies_it(synthetic_sets, tmp_path):
    source = synthetic_sets("ph2", count=10)
    assert Prepare_ph2.main(["--data-dir", str(source), "--out", str(tmp_path / "f1"),
                             "--size", "16", "--folds", "5", "--fold", "1", "--seed", "4",
                             "--workers", "1", "--no-progress"]) == 0
    manifest = json.loads((tmp_path / "f1" / "split.json").read_text())
    assert (manifest["fold"], manifest["folds"], manifest["seed"]) == (1, 5, 4)
    assert manifest["ids"] == fold_split(sorted(sum(manifest["ids"].values(), [])),
                                         DEFAULT_SPLIT, 5, 1, 4)
    assert manifest["sizes"] == {"train": 6, "val": 2, "test": 2}
    other = prepare_dataset("ph2", source, tmp_path / "f2", image_size=16, folds=5, fold=2,
                            seed=4, **QUIET)
    assert other["fingerprint"] != manifest["fingerprint"]
    config = RunConfig(model={}, extra=data_fold(tmp_path / "f1")).to_json()
    assert (config["fold"], config["folds"]) == (1, 5)  # as training writes config.json
    assert data_fold(source) == {}


@pytest.mark.parametrize("arguments, message", [
    (["--fold", "0"], "--folds K and --fold I go together"),
    (["--folds", "5", "--fold", "5"], "--fold must lie in 0..4"),
    (["--folds", "1", "--fold", "0"], "--folds must be at least 2"),
    (["--folds", "5", "--fold", "0", "--split", "6,2,2"], "--split and --folds exclude"),
    (["--folds", "20", "--fold", "0"], "--folds 20 needs at least 20 pairs, found 12"),
])
def test_fold_requests_that_cannot_be_met_are_refused(synthetic_sets, tmp_path, capsys,
                                                       arguments, message):
    source = synthetic_sets("isic2018")
    status = Prepare_ISIC2018.main(["--data-dir", str(source), "--out", str(tmp_path / "x"),
                                    "--size", "16", "--no-progress", *arguments])
    assert status == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_folds_without_room_for_validation_are_refused():
    with pytest.raises(PrepareError, match="Too few pairs"):
        fold_split(PH2_IDS[:3], DEFAULT_SPLIT, 3, 0)  # 2 left: round(0.4) = 0 validation
