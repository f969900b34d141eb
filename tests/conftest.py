"""Shared test fixtures: the committed original-checkpoint fixture, and paths to ../shared
(the PH2 sample), skipped cleanly where ../shared is absent."""
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
    # Committed (464 KB), so every clone checks the layout and the probe: never skipped.
    path = REPO / "tests" / "fixtures" / "original_checkpoint"
    assert (path / "layout.json").is_file() and (path / "probe.npz").is_file(), path
    return path
