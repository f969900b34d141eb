"""split.json records each array's sha256, which loading checks: a flipped byte is refused."""
import hashlib
import json

import numpy as np
import pytest

from attention_deeplab.data.loader import load_split
from attention_deeplab.data.prepare import prepare_dataset
from attention_deeplab.errors import DataError

QUIET = {"progress": False, "say": lambda message: None, "workers": 1}
FILES = [f"{kind}_{split}.npy" for kind in ("data", "mask") for split in ("train", "val", "test")]


@pytest.fixture(scope="module")
def prepared(synthetic_sets, tmp_path_factory):
    out = tmp_path_factory.mktemp("prepared")
    prepare_dataset("isic2018", synthetic_sets("isic2018"), out, image_size=16, **QUIET)
    return out


@pytest.fixture
def data(prepared, tmp_path):
    for path in prepared.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    return tmp_path


def _flip(path):
    raw = bytearray(path.read_bytes())
    raw[len(raw) - 7] ^= 0x01  # a pixel's lowest bit: the array still decodes
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize("folds", [None, 4])
def test_split_json_records_what_sha256sum_prints(synthetic_sets, tmp_path, folds):
    fold = None if folds is None else 1
    manifest = prepare_dataset("isic2018", synthetic_sets("isic2018"), tmp_path, image_size=16,
                               folds=folds, fold=fold, **QUIET)
    written = json.loads((tmp_path / "split.json").read_text())
    assert written["sha256"] == manifest["sha256"] == {
        name: hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() for name in FILES}


def test_digests_stay_out_of_the_fingerprint(synthetic_sets, prepared, tmp_path):
    # The fingerprint names the set's recipe, so runs on data prepared before the digests
    # resume: the same preparation, with other bytes in one array, keeps it.
    again = prepare_dataset("isic2018", synthetic_sets("isic2018"), tmp_path, image_size=16,
                            **QUIET)
    saved = json.loads((prepared / "split.json").read_text())
    assert again["fingerprint"] == saved["fingerprint"]


@pytest.mark.parametrize("name", FILES)
def test_a_flipped_byte_in_an_array_is_refused(data, name):
    split = name.split("_")[1][:-4]
    _flip(data / name)
    with pytest.raises(DataError, match=rf"{name} is damaged \(its sha256 .*Prepare_ISIC2018"):
        load_split(data, split)
    other = {"train": "val", "val": "test", "test": "train"}[split]
    load_split(data, other)  # the others still load


def test_arrays_of_a_split_json_without_digests_load_unchecked(prepared, data):
    manifest = json.loads((data / "split.json").read_text())
    del manifest["sha256"]  # as prepared before split.json recorded them
    (data / "split.json").write_text(json.dumps(manifest))
    _flip(data / "data_train.npy")
    images, _ = load_split(data, "train")
    good, _ = load_split(prepared, "train")
    assert np.count_nonzero(images != good) == 1  # the flipped pixel, as before
