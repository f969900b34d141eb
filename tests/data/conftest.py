"""Small synthetic datasets shared by the data preparation tests."""
import shutil

import pytest

from attention_deeplab.data.synthetic import generate

# Small widths keep generation and decoding to a few milliseconds per pair.
WIDTHS = (48, 96)


@pytest.fixture(scope="session")
def synthetic_sets(tmp_path_factory):
    """A factory: ``synthetic_sets(layout, count)`` -> folder, generated once per session."""
    made = {}

    def make(layout, count=12, seed=0):
        key = (layout, count, seed)
        if key not in made:
            folder = tmp_path_factory.mktemp(f"{layout}-{count}-{seed}")
            generate(layout, count, folder, seed=seed, width_range=WIDTHS)
            made[key] = folder
        return made[key]

    return make


@pytest.fixture
def isic18_copy(synthetic_sets, tmp_path):
    """A private copy of a 12-pair synthetic ISIC 2018 folder, free to damage."""
    folder = tmp_path / "isic18"
    shutil.copytree(synthetic_sets("isic2018"), folder)
    return folder
