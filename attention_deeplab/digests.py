"""Digests of the files the project writes, checked whenever one is read back.

Neither a `.npy` array nor an HDF5 weights file checks its values: a flipped
byte decodes silently as another pixel or weight. The project wrote these
files, so it records what they held and refuses them when that changed:

- Prepare records the sha256 of each array file in `split.json` (the number
  `sha256sum data_train.npy` prints), which `load_split` checks.
- A run's `best.weights.h5` holds the sha256 of its own values as a root attribute,
  which `load_weights_into` checks. Inside the file rather than beside it: the
  weights and their digest are renamed into place in one step, so no kill between
  two writes can pair new weights with an old digest (a false "damaged" forever),
  and the state's hard link and any copy of the file carry it along.

Files without a digest (data prepared and runs trained before it, dataset images,
the authors' checkpoints, weights from elsewhere) load as before, unchecked.
"""
import hashlib
import mmap
import os

import h5py
import numpy as np

from attention_deeplab.errors import WeightsFileError

ARRAYS_KEY = "sha256"  # split.json: {"data_train.npy": sha256 hex of the whole file, ...}
WEIGHTS_ATTRIBUTE = "attention_deeplab_values_sha256"  # a .weights.h5's root attribute
CHUNK = 1 << 24  # 16 MiB: hashlib releases the GIL for each chunk
# What h5py raises on a file whose structure a damaged byte broke.
H5_FAILURES = (OSError, EOFError, KeyError, ValueError, RuntimeError, TypeError)


def file_sha256(path):
    """The sha256 hex of a file's bytes, hashed through a memory map in chunks.

    A memory map, not `read()`: no copy of the bytes, and the pages it reads are
    the ones training's memory-mapped arrays then find in the page cache, so the
    check is the arrays' first read rather than an extra one.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        size = os.fstat(stream.fileno()).st_size
        if size:
            with mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as mapping:
                for start in range(0, size, CHUNK):
                    with memoryview(mapping)[start:start + CHUNK] as chunk:
                        digest.update(chunk)
    return digest.hexdigest()


def array_damage(path, manifest):
    """Why the array file `path` is damaged, or None: its sha256 differs from the one
    `manifest` (split.json's content) recorded. None too when none was recorded."""
    recorded = manifest.get(ARRAYS_KEY) if isinstance(manifest, dict) else None
    expected = recorded.get(os.path.basename(path)) if isinstance(recorded, dict) else None
    if expected is None or file_sha256(path) == expected:
        return None
    return "its sha256 is not the one split.json recorded when it was prepared"


def _values_sha256(handle):
    """The sha256 of an HDF5 file's datasets: each one's name, dtype, shape and bytes."""
    names = []
    handle.visititems(lambda name, item: names.append(name)
                      if isinstance(item, h5py.Dataset) else None)
    digest = hashlib.sha256()
    for name in sorted(names):
        values = np.ascontiguousarray(handle[name][()])
        digest.update(f"{name}|{values.dtype.str}|{values.shape}\n".encode())
        digest.update(values.tobytes())
    return digest.hexdigest()


def embed_weights_digest(path):
    """Writes the sha256 of a `.weights.h5` file's values into it (before its rename)."""
    with h5py.File(path, "r+") as handle:
        handle.attrs[WEIGHTS_ATTRIBUTE] = _values_sha256(handle)


def check_weights_digest(path):
    """Raises WeightsFileError when an HDF5 weights file that records the sha256 of its
    values no longer holds them. A file without one (older runs, others') passes."""
    try:
        with h5py.File(path, "r") as handle:
            expected = handle.attrs.get(WEIGHTS_ATTRIBUTE)
            if expected is None:
                return
            actual = _values_sha256(handle)
    except H5_FAILURES as error:
        raise WeightsFileError(path, error) from error
    if isinstance(expected, bytes):
        expected = expected.decode("ascii", "replace")
    if actual != expected:
        raise WeightsFileError(path, "its values are not those whose sha256 it recorded "
                               "when it was written")
