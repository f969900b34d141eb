"""Shared test fixtures: paths to ../shared, skipped cleanly where it is absent."""
import os
from pathlib import Path

import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def repo_root():
    return REPO


@pytest.fixture(scope="session")
def ph2_sample_dir():
    path = SHARED / "data" / "ph2_sample"
    if not path.is_dir():
        pytest.skip(f"{path} is absent")
    return path


@pytest.fixture(scope="session")
def original_checkpoint_dir():
    path = SHARED / "fixtures" / "original_checkpoint"
    if not (path / "layout.json").is_file():
        pytest.skip(f"{path} is absent")
    return path
