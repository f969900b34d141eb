"""Prediction on image files of any size and mode, with a small stand-in keras model."""
import csv

import keras
import numpy as np
import pytest
from PIL import Image

from attention_deeplab.inference import arrays as inference
from attention_deeplab.inference import images as prediction
from attention_deeplab.model import model_options
from tests.support.models import dark_is_lesion_model, record_model_loads

SIZE = 16


def stand_in_model():
    return dark_is_lesion_model(SIZE)


def lesion_image(width, height, seed=0):
    """A bright image with one dark ellipse in it."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:height, :width]
    lesion = ((yy - height / 2) / (height / 4)) ** 2 + ((xx - width / 2.5) / (width / 5)) ** 2 < 1
    image = rng.integers(170, 255, (height, width, 3)).astype(np.uint8)
    image[lesion] = rng.integers(10, 60, (int(lesion.sum()), 3))
    return image


@pytest.fixture
def odd_images(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    Image.fromarray(lesion_image(1000, 750)).save(folder / "large.jpg", quality=90)
    Image.fromarray(lesion_image(333, 517, 1)).save(folder / "odd.png")
    Image.fromarray(lesion_image(120, 90, 2)).convert("L").save(folder / "grey.png")
    Image.fromarray(lesion_image(101, 77, 3)).convert("RGBA").save(folder / "alpha.png")
    Image.fromarray(lesion_image(64, 48, 4)).save(folder / "scan.bmp")
    Image.fromarray(lesion_image(50, 70, 5)).save(folder / "scan.tif")
    (folder / "notes.txt").write_text("not an image, and not picked from a folder")
    return folder


def read_csv(path):
    with open(path) as stream:
        return list(csv.DictReader(stream))


def test_masks_have_each_input_size_and_the_csv_agrees(odd_images, tmp_path):
    out = tmp_path / "out"
    summary = prediction.predict_images([str(odd_images)], out, model=stand_in_model(),
                                        batch_size=4, progress=False)
    assert summary["n_images"] == 6 and summary["n_failed"] == 0
    rows = read_csv(out / "predictions.csv")
    assert len(rows) == 6
    for row in rows:
        source = Image.open(row["file"])
        mask = np.asarray(Image.open(out / row["mask"]))
        overlay = Image.open(out / row["mask"].replace("_mask", "_overlay"))
        assert mask.shape == (source.height, source.width)
        assert mask.shape == (int(row["height"]), int(row["width"]))
        assert overlay.size == source.size and overlay.mode == "RGB"
        assert set(np.unique(mask)) <= {0, 255}
        lesion = mask == 255
        assert int(row["lesion_pixels"]) == lesion.sum() > 0
        assert float(row["lesion_fraction"]) == pytest.approx(lesion.mean(), abs=1e-6)
        rows_any, cols_any = np.flatnonzero(lesion.any(1)), np.flatnonzero(lesion.any(0))
        assert (int(row["bbox_left"]), int(row["bbox_top"])) == (cols_any[0], rows_any[0])
        assert (int(row["bbox_right"]), int(row["bbox_bottom"])) == (cols_any[-1], rows_any[-1])
        assert 0.5 < float(row["mean_probability"]) <= 1
    # The dark ellipse is found at full resolution, not as a 16x16 block pattern.
    large = np.asarray(Image.open(out / "large_mask.png")) == 255
    truth = np.asarray(Image.open(odd_images / "large.jpg").convert("L")) < 110
    assert (large & truth).sum() / (large | truth).sum() > 0.8


def test_a_corrupt_file_is_reported_and_the_others_processed(odd_images, tmp_path):
    (odd_images / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated, not a JPEG")
    inputs = [str(odd_images / "*.png"), str(odd_images / "broken.jpg"),
              str(odd_images / "notes.txt"), str(tmp_path / "missing" / "*.jpg")]
    summary = prediction.predict_images(inputs, tmp_path / "out", model=stand_in_model(),
                                        batch_size=2, progress=False)
    assert summary["n_images"] == 3 and summary["n_failed"] == 3
    reasons = dict(summary["failed"])
    assert "broken.jpg" in reasons[str(odd_images / "broken.jpg")]
    assert str(odd_images / "notes.txt") in reasons
    assert str(tmp_path / "missing" / "*.jpg") in reasons
    names = sorted(row["mask"] for row in read_csv(tmp_path / "out" / "predictions.csv"))
    assert names == ["alpha_mask.png", "grey_mask.png", "odd_mask.png"]


def test_images_go_through_the_model_in_batches(odd_images, tmp_path):
    class Recorder:
        input_shape = (None, SIZE, SIZE, 3)

        def __init__(self):
            self.model, self.batches = stand_in_model(), []

        def predict_on_batch(self, batch):
            self.batches.append(len(batch))
            return self.model.predict_on_batch(batch)

    recorder = Recorder()
    prediction.predict_images([str(odd_images)], tmp_path / "out", model=recorder,
                              batch_size=4, progress=False)
    assert recorder.batches == [4, 4]  # the last 2 padded: one compiled shape


def test_padded_last_batch_predicts_as_unpadded():
    model = stand_in_model()
    images = np.random.default_rng(0).integers(0, 256, (5, SIZE, SIZE, 3), dtype=np.uint8)
    whole = inference.predict_array(model, images, batch_size=5)
    padded = inference.predict_array(model, images, batch_size=3, tta=True)  # 3 + 2 padded
    np.testing.assert_allclose(padded, inference.predict_array(model, images, batch_size=5,
                                                               tta=True), atol=1e-6)
    np.testing.assert_allclose(inference.predict_array(model, images, batch_size=4), whole,
                               atol=1e-6)


def test_same_names_from_two_folders_do_not_overwrite(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        Image.fromarray(lesion_image(40, 30)).save(tmp_path / name / "IMG.png")
    prediction.predict_images([str(tmp_path / "a"), str(tmp_path / "b")], tmp_path / "out",
                              model=stand_in_model(), progress=False)
    assert (tmp_path / "out" / "IMG_mask.png").is_file()
    assert (tmp_path / "out" / "IMG_2_mask.png").is_file()


def test_probabilities_are_resized_on_floats_before_the_threshold():
    small = np.array([[0.4, 0.6], [0.4, 0.6]], np.float32)
    resized = inference.resize_probabilities(small, (4, 8))
    assert resized.shape == (4, 8) and resized.dtype == np.float32
    # Bilinear on pixel centres: soft values between the two, not a thresholded 0/1 edge.
    expected_row = [0.4, 0.4, 0.425, 0.475, 0.525, 0.575, 0.6, 0.6]
    np.testing.assert_allclose(resized, np.tile(expected_row, (4, 1)), atol=1e-6)


def test_tta_is_the_mean_of_identity_and_both_flips():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((SIZE, SIZE, 3)),
                              keras.layers.Conv2D(1, 5, padding="same", activation="sigmoid")])
    images = np.random.default_rng(0).integers(0, 255, (2, SIZE, SIZE, 3)).astype(np.uint8)
    x = inference.normalize_images(images)

    def forward(batch):
        return model.predict_on_batch(np.ascontiguousarray(batch))[..., 0]

    expected = (forward(x) + forward(x[:, :, ::-1])[:, :, ::-1] + forward(x[:, ::-1])[:, ::-1]) / 3
    tta = inference.predict_batch(model, images, tta=True)
    np.testing.assert_allclose(tta, expected, atol=1e-6)
    assert not np.allclose(inference.predict_batch(model, images), expected, atol=1e-4)


def test_postprocessing_keeps_the_largest_lesion_and_fills_holes():
    mask = np.zeros((8, 8), bool)
    mask[1:6, 1:6] = True
    mask[3, 3] = False  # a hole
    mask[7, 7] = True  # a speck
    kept = prediction.postprocess(mask, keep_largest=True)
    assert not kept[7, 7] and kept[1:6, 1:6].sum() == 24
    filled = prediction.postprocess(mask, keep_largest=True, fill_holes=True)
    assert filled.sum() == 25 and filled[3, 3]
    assert prediction.postprocess(np.zeros((4, 4), bool), True, True).sum() == 0


def test_a_model_or_its_weights_are_required(tmp_path):
    with pytest.raises(ValueError, match="--run-dir .* or --weights"):
        prediction.predict_images([str(tmp_path)], tmp_path / "out")
    with pytest.raises(ValueError, match="--threshold"):
        prediction.predict_images([str(tmp_path)], tmp_path / "out", model=stand_in_model(),
                                  threshold=1.5)


def test_bare_weights_and_weights_inside_a_run_are_told_apart(tmp_path, monkeypatch):
    calls = record_model_loads(monkeypatch, SIZE)
    Image.fromarray(lesion_image(40, 30)).save(tmp_path / "x.png")
    checkpoint = tmp_path / "weight_isic18_deeplab_v3pa"
    checkpoint.write_bytes(b"")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "config.json").write_text('{"model": {"preset": "tiny"}}')
    (run_dir / "epoch_3.weights.h5").write_bytes(b"")
    for weights in (checkpoint, run_dir / "epoch_3.weights.h5"):
        prediction.predict_images([str(tmp_path / "x.png")], tmp_path / "out", weights=weights,
                                  output_stride=8, progress=False)
    assert calls[0] == [model_options(output_stride=8), str(checkpoint)]
    # A run's weights take the run's model options.
    assert calls[1] == [{"preset": "tiny", "output_stride": 8}, str(run_dir / "epoch_3.weights.h5")]


def test_memory_does_not_grow_with_the_number_of_images(tmp_path):
    import tracemalloc

    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(16):
        Image.fromarray(lesion_image(600, 400, i)).save(folder / f"img{i:02d}.png")
    model = stand_in_model()
    peaks = []
    for pattern in ("img0[0-3].png", "img*.png"):  # 4 images, then 16
        tracemalloc.start()
        prediction.predict_images([str(folder / pattern)], tmp_path / pattern[:4], model=model,
                                  batch_size=2, progress=False)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    # One 600x400 image is 0.7 MB as RGB (and 1 MB as float probabilities): holding
    # the 12 extra images would add over 8 MB.
    assert peaks[1] < peaks[0] + 2_000_000, peaks
