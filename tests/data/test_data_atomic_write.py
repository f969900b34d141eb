"""An interrupted preparation leaves the previous set intact and no temporary files."""
import os

import numpy as np
import pytest

from attention_deeplab.data import image_files, prepare, writer
from attention_deeplab.data.prepare import prepare_dataset

QUIET = {"progress": False, "say": lambda message: None, "workers": 1}
FILES = [f"{kind}_{split}.npy" for kind in ("data", "mask") for split in ("train", "val", "test")]


def snapshot(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


@pytest.fixture
def previous_set(synthetic_sets, tmp_path):
    """A set prepared at 16 px, whose bytes the tests compare against."""
    prepare_dataset("isic2018", synthetic_sets("isic2018"), tmp_path, image_size=16, **QUIET)
    return tmp_path, snapshot(tmp_path)


def test_interrupt_during_decoding_keeps_previous_set(previous_set, synthetic_sets,
                                                      monkeypatch):
    out, before = previous_set
    decoded = []

    def interrupted(task):
        if len(decoded) == 7:
            raise KeyboardInterrupt  # Ctrl-C half-way through
        decoded.append(task[0])
        return image_files.read_pair(task)

    monkeypatch.setattr(prepare, "read_pair", interrupted)
    with pytest.raises(KeyboardInterrupt):
        prepare_dataset("isic2018", synthetic_sets("isic2018"), out, image_size=24, **QUIET)
    assert snapshot(out) == before  # same names, same bytes: no temporaries, no mixture


def test_failure_while_renaming_never_leaves_a_mixture(previous_set, synthetic_sets,
                                                       monkeypatch):
    out, before = previous_set
    renamed = []
    real_replace = os.replace

    def dies_on_third(source, target):
        if len(renamed) == 2:
            raise OSError("disk gone")
        renamed.append(target)
        real_replace(source, target)

    monkeypatch.setattr(writer.os, "replace", dies_on_third)
    with pytest.raises(OSError):
        prepare_dataset("isic2018", synthetic_sets("isic2018"), out, image_size=24, **QUIET)
    # The manifest went first: the half-renamed folder no longer claims to be a set.
    assert not (out / "split.json").exists()
    assert not [name for name in os.listdir(out) if "tmp" in name]


def test_manifest_is_renamed_last(synthetic_sets, tmp_path, monkeypatch):
    order = []
    real_replace = os.replace

    def record(source, target):
        order.append(os.path.basename(target))
        real_replace(source, target)

    monkeypatch.setattr(writer.os, "replace", record)
    prepare_dataset("isic2018", synthetic_sets("isic2018"), tmp_path, image_size=16, **QUIET)
    assert order[-1] == "split.json" and sorted(order[:-1]) == sorted(FILES)


def test_arrays_are_written_as_uint8_npy_without_float_copies(previous_set):
    out, _ = previous_set
    images = np.load(out / "data_train.npy", mmap_mode="r")
    assert images.dtype == np.uint8 and images.shape == (8, 16, 16, 3)
    # Header plus raw rows, nothing else: a uint8 file, never float64.
    assert (out / "data_train.npy").stat().st_size == images.offset + 8 * 16 * 16 * 3


def test_temporaries_of_a_killed_run_are_cleared(synthetic_sets, tmp_path):
    dead = tmp_path / ".data_train.npy.tmp-999999999"  # no such process
    dead.write_bytes(b"left by kill -9")
    alive = tmp_path / f".mask_val.npy.tmp-{os.getpid()}x"  # not ours to judge
    alive.write_bytes(b"")
    prepare_dataset("isic2018", synthetic_sets("isic2018"), tmp_path, image_size=16, **QUIET)
    assert not dead.exists() and alive.exists()
