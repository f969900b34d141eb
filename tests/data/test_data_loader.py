"""The batch loader: memory-mapped splits, the original's normalisation, seeded batches."""
import json

import numpy as np
import pytest

from attention_deeplab.data.loader import (
    ArraySequence, DataError, load_split, normalize_images, normalize_masks)


def original_dataset_normalized(imgs):
    """The original code's formula, written out: global standardisation, then
    each image min-max scaled to 0..255 (float64, as it ran)."""
    imgs = imgs.astype(np.float64)
    normalized = (imgs - np.mean(imgs)) / np.std(imgs)
    for i in range(normalized.shape[0]):
        normalized[i] = ((normalized[i] - np.min(normalized[i]))
                         / (np.max(normalized[i]) - np.min(normalized[i]))) * 255
    return normalized


def write_split(folder, split, images, masks, manifest=True):
    np.save(folder / f"data_{split}.npy", images)
    np.save(folder / f"mask_{split}.npy", masks)
    if manifest:
        (folder / "split.json").write_text(json.dumps({"dataset": "isic2018"}))


def test_uint8_arrays_without_manifest_are_refused(tmp_path, rng):
    write_split(tmp_path, "train", rng.integers(0, 256, (2, 8, 8, 3), dtype=np.uint8),
                rng.integers(0, 256, (2, 8, 8), dtype=np.uint8), manifest=False)
    with pytest.raises(DataError, match="interrupted"):
        load_split(tmp_path, "train")


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def test_normalize_images_equals_original_formula(rng):
    images = rng.integers(0, 256, (5, 16, 12, 3)).astype(np.uint8)
    images[1] = np.clip(images[1], 40, 90)  # an image of low contrast
    ours = normalize_images(images)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, original_dataset_normalized(images), atol=1e-4)
    images[4] = 17  # a constant uint8 image: zeros, as for float input
    assert np.all(normalize_images(images)[4] == 0)
    # The same float32 values whatever the arrays' dtype (uint8 now, float64 in older runs).
    np.testing.assert_array_equal(normalize_images(images),
                                  normalize_images(images.astype(np.float64)))


def test_normalize_images_legacy_float64_and_constant_image(rng):
    images = rng.uniform(0, 255, (3, 8, 8, 3))
    images[2] = 17.0
    ours = normalize_images(images)
    np.testing.assert_allclose(ours[:2], original_dataset_normalized(images[:2]), atol=1e-4)
    assert np.all(ours[2] == 0)  # the original divided 0 by 0 here


def test_normalize_masks_adds_channel_and_scales():
    masks = np.array([[[0, 255], [128, 255]]], np.uint8)
    out = normalize_masks(masks)
    assert out.shape == (1, 2, 2, 1) and out.dtype == np.float32
    np.testing.assert_allclose(out[0, :, :, 0], masks[0] / 255.0, atol=1e-7)
    assert normalize_masks(out * 255).shape == (1, 2, 2, 1)


def test_load_split_is_memory_mapped(tmp_path, rng):
    write_split(tmp_path, "train", rng.integers(0, 256, (4, 16, 16, 3), dtype=np.uint8),
                rng.integers(0, 256, (4, 16, 16), dtype=np.uint8))
    images, masks = load_split(tmp_path, "train")
    assert isinstance(images, np.memmap) and isinstance(masks, np.memmap)
    assert images.dtype == np.uint8 and masks.shape == (4, 16, 16)


def test_load_split_missing_names_prepare_script(tmp_path):
    (tmp_path / "split.json").write_text(json.dumps({"dataset": "ph2"}))
    with pytest.raises(DataError, match="Prepare_ph2.py"):
        load_split(tmp_path, "train")
    with pytest.raises(DataError, match="Prepare_ISIC2017.py"):
        load_split(tmp_path / "nowhere", "val", dataset="isic2017")


def test_load_split_mismatched_arrays(tmp_path, rng):
    write_split(tmp_path, "train", np.zeros((4, 16, 16, 3), np.uint8), np.zeros((3, 16, 16), np.uint8))
    with pytest.raises(DataError, match="4 images but 3 masks"):
        load_split(tmp_path, "train")
    write_split(tmp_path, "val", np.zeros((2, 16, 16, 3), np.uint8), np.zeros((2, 16, 8), np.uint8))
    with pytest.raises(DataError, match="differ in size"):
        load_split(tmp_path, "val")


def test_sequence_batches_cover_each_epoch_once_seeded_by_epoch(rng):
    images = np.arange(10, dtype=np.uint8).reshape(10, 1, 1, 1) * np.ones((1, 4, 4, 3), np.uint8)
    images[:, 0, 0, :] = 255  # every image spans 0..255 after normalisation
    masks = np.zeros((10, 4, 4), np.uint8)
    seq = ArraySequence(images, masks, batch_size=4, shuffle=True, seed=3)
    assert len(seq) == 3
    orders = {}
    for epoch in (0, 1):
        seq.epoch = epoch
        drawn = np.concatenate([seq.batch_indices(i) for i in range(len(seq))])
        assert sorted(drawn) == list(range(10))
        orders[epoch] = drawn
    assert not np.array_equal(orders[0], orders[1])
    again = ArraySequence(images, masks, batch_size=4, shuffle=True, seed=3, epoch=1)
    np.testing.assert_array_equal(again.epoch_order(1), orders[1])
    x, y = seq[2]
    assert x.shape == (2, 4, 4, 3) and y.shape == (2, 4, 4, 1)


def test_sequence_augment_moves_image_and_mask_together(rng):
    images = rng.integers(0, 256, (6, 8, 8, 3), dtype=np.uint8)
    masks = images[..., 0].copy()  # the mask is a copy of channel 0
    seq = ArraySequence(images, masks, batch_size=6, augment=True, seed=1)
    x, y = seq[0]
    plain_x, _ = ArraySequence(images, masks, batch_size=6)[0]
    assert not np.allclose(x, plain_x)  # some image was flipped or rotated
    # Each mask still matches its image pixel for pixel.
    for image, mask in zip(x, y[..., 0]):
        assert np.corrcoef(image[..., 0].ravel(), mask.ravel())[0, 1] > 0.99


def test_sequence_leaves_out_a_last_batch_below_min_batch():
    images, masks = np.zeros((9, 4, 4, 3), np.uint8), np.zeros((9, 4, 4), np.uint8)
    assert len(ArraySequence(images, masks, batch_size=4)) == 3
    seq = ArraySequence(images, masks, batch_size=4, shuffle=True, min_batch=2)
    assert len(seq) == 2 and len(seq.epoch_order(0)) == 8
    assert len(ArraySequence(images[:3], masks[:3], batch_size=4, min_batch=2)) == 1
