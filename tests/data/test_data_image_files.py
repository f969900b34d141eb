"""Decoding: colour modes, mask bit depths, the bilinear resize, the JPEG draft bound, --exact-resize."""
import numpy as np
import pytest
from PIL import Image, JpegImagePlugin

from attention_deeplab.data.image_files import parse_size, read_image, read_mask, read_pair
from attention_deeplab.data.lesion_render import render_case
from attention_deeplab.data.pairs import Pair
from attention_deeplab.errors import PrepareError


@pytest.fixture(scope="module")
def colour_image():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)


@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA", "CMYK", "P"])
def test_any_colour_mode_becomes_rgb(tmp_path, colour_image, mode):
    path = tmp_path / ("image.jpg" if mode == "CMYK" else "image.png")
    Image.fromarray(colour_image).convert(mode).save(path)
    image = read_image(path, (15, 20))
    assert image.shape == (15, 20, 3) and image.dtype == np.uint8
    expected = np.asarray(Image.open(path).convert("RGB").resize((20, 15), Image.BILINEAR))
    assert np.array_equal(image, expected)


def test_image_resize_is_pillow_bilinear_on_uint8(tmp_path, colour_image):
    Image.fromarray(colour_image).save(tmp_path / "image.bmp")
    expected = Image.fromarray(colour_image).resize((8, 6), Image.BILINEAR)
    assert np.array_equal(read_image(tmp_path / "image.bmp", (6, 8)), np.asarray(expected))


@pytest.mark.parametrize("mode", ["1", "L", "RGB"])
def test_masks_of_any_bit_depth_read_as_grey(tmp_path, mode):
    mask = np.zeros((40, 40), np.uint8)
    mask[10:30, 5:25] = 255
    Image.fromarray(mask).convert(mode).save(tmp_path / "mask.bmp")
    same = read_mask(tmp_path / "mask.bmp", (40, 40))
    assert same.dtype == np.uint8 and np.array_equal(same, mask)
    small = read_mask(tmp_path / "mask.bmp", (10, 10))
    assert small.shape == (10, 10) and set(np.unique(small)) >= {0, 255}


def test_masks_coded_0_1_become_0_255(tmp_path):
    mask = np.zeros((40, 40), np.uint8)
    mask[10:30, 10:30] = 1
    Image.fromarray(mask).save(tmp_path / "mask.png")
    read = read_mask(tmp_path / "mask.png", (20, 20))
    assert read.max() == 255 and read[10, 10] == 255 and read[0, 0] == 0
    empty = np.zeros((40, 40), np.uint8)  # an empty mask stays empty
    Image.fromarray(empty).save(tmp_path / "empty.png")
    assert read_mask(tmp_path / "empty.png", (20, 20)).max() == 0


def test_parse_size():
    assert parse_size(64) == (64, 64)
    assert parse_size([64]) == (64, 64)
    assert parse_size([48, 64]) == (48, 64)
    for bad in (0, [1, 2, 3], [2.5], -4):
        with pytest.raises(PrepareError, match="--size"):
            parse_size(bad)


@pytest.fixture(scope="module")
def large_jpeg(tmp_path_factory):
    """A 2000x1500 dermoscopy-like JPEG with camera grain, and its PNG mask."""
    rng = np.random.default_rng(7)
    image, mask = render_case(rng, 1500, 2000)
    grain = rng.normal(0, 6, image.shape)  # fine detail is what a reduced decode loses
    folder = tmp_path_factory.mktemp("draft")
    Image.fromarray(np.clip(image + grain, 0, 255).astype(np.uint8)).save(
        folder / "large.jpg", quality=90)
    Image.fromarray(mask).save(folder / "large.png")
    return folder / "large.jpg"


@pytest.mark.parametrize("size", [(64, 64), (192, 256), (256, 256)])
def test_draft_stays_within_1_5_grey_levels(large_jpeg, size):
    drafted = read_image(large_jpeg, size, draft=True).astype(np.float64)
    full = read_image(large_jpeg, size, draft=False).astype(np.float64)
    assert np.abs(drafted - full).mean() <= 1.5
    # Masks are box-reduced before the resize (reducing_gap): the same bound holds.
    mask = read_mask(large_jpeg.with_suffix(".png"), size).astype(np.float64)
    plain = Image.open(large_jpeg.with_suffix(".png")).resize(size[::-1], Image.BILINEAR)
    assert np.abs(mask - np.asarray(plain)).mean() <= 1.5


def test_draft_actually_reduces_the_decode(large_jpeg, monkeypatch):
    calls = []
    original = JpegImagePlugin.JpegImageFile.draft

    def spy(self, mode, size):
        result = original(self, mode, size)
        calls.append((size, self.size))
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    read_image(large_jpeg, (64, 64))
    # 2000x1500 decoded at 1/8 scale: 250x188, still over 1.5 times the 64x64 target.
    assert calls == [((96, 96), (250, 188))]


@pytest.mark.parametrize("size", [(64, 64), (256, 256), (192, 256)])
def test_exact_resize_is_a_plain_pillow_bilinear_resize_of_the_full_decode(large_jpeg, size):
    """--exact-resize: what the original's scipy.misc.imresize(..., interp="bilinear") did."""
    _, image, mask = read_pair((0, Pair("large", large_jpeg, large_jpeg.with_suffix(".png")),
                                   size, "exact"))
    with Image.open(large_jpeg) as full:
        expected = np.asarray(full.convert("RGB").resize(size[::-1], Image.BILINEAR))
    with Image.open(large_jpeg.with_suffix(".png")) as full:
        expected_mask = np.asarray(full.convert("L").resize(size[::-1], Image.BILINEAR))
    assert image == expected.tobytes()
    assert mask == expected_mask.tobytes()
    # The fast path is another resize: its shortcuts show in the bytes.
    _, fast_image, fast_mask = read_pair(
        (0, Pair("large", large_jpeg, large_jpeg.with_suffix(".png")), size, "fast"))
    assert fast_image != image and fast_mask != mask
