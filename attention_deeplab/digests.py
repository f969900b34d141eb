"""Digests of the files the project writes, checked whenever one is read back.

Neither a `.npy` array nor an HDF5 weights file checks its values: a flipped
byte decodes silently as another pixel or weight. The project wrote these
files, so it records what they held and refuses them when that changed:

- Prepare records the sha256 of each array file in `split.json` (the number
  `sha256sum data_train.npy` prints), which `load_split` checks.
- A run's `best.weights.h5` ends with a line `attention_deeplab sha256 <hex>`, the
  sha256 of every byte before it, which `load_weights_into` checks (HDF5 reads
  nothing past its own end). Inside the file rather than beside it: the weights and
  their digest are renamed into place in one step, so no kill between two writes can
  pair new weights with an old digest (a false "damaged" forever), and the state's
  hard link and any copy of the file carry it along. Over the bytes rather than the
  values: a flip in HDF5's structure is refused too, and no dataset is read twice.

Files without a digest (data prepared and runs trained before it, dataset images,
the authors' checkpoints, weights from elsewhere) load as before, unchecked.
"""
import hashlib
import mmap
import os
import re

from attention_deeplab.errors import WeightsFileError

ARRAYS_KEY = "sha256"  # split.json: {"data_train.npy": sha256 hex of the whole file, ...}
TRAILER_PREFIX = b"attention_deeplab sha256 "  # a .weights.h5's last line
TRAILER = re.compile(b"\n" + re.escape(TRAILER_PREFIX) + b"([0-9a-f]{64})\n")
TRAILER_LENGTH = len(TRAILER_PREFIX) + 66
CHUNK = 1 << 24  # 16 MiB: hashlib releases the GIL for each chunk


def file_sha256(path, length=None):
    """The sha256 hex of a file's bytes (its first `length`), through a memory map in chunks.

    A memory map, not `read()`: no copy of the bytes, and the pages it reads are
    the ones training's memory-mapped arrays then find in the page cache, so the
    check is the arrays' first read rather than an extra one.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        size = os.fstat(stream.fileno()).st_size if length is None else length
        if size:
            with mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as mapping, \
                    memoryview(mapping) as view:
                for start in range(0, size, CHUNK):
                    digest.update(view[start:min(start + CHUNK, size)])
    return digest.hexdigest()


def first_damaged(paths, manifest):
    """The first of the array files `paths` whose sha256 is not the one `manifest`
    (split.json's content) recorded, or None; a file with none recorded passes."""
    recorded = manifest.get(ARRAYS_KEY) if isinstance(manifest, dict) else None
    for path in paths:
        expected = recorded.get(os.path.basename(path)) if isinstance(recorded, dict) else None
        if expected is not None and file_sha256(path) != expected:
            return path
    return None


def _trailer(path):
    """(sha256 hex, trailer length) of a weights file's digest trailer, or (None, 0)."""
    with open(path, "rb") as stream:
        size = stream.seek(0, os.SEEK_END)
        stream.seek(max(0, size - TRAILER_LENGTH))
        match = TRAILER.fullmatch(stream.read())
    return (match.group(1).decode(), TRAILER_LENGTH) if match else (None, 0)


def embed_weights_digest(path):
    """Appends to a `.weights.h5` file (before its rename) the sha256 of its bytes."""
    digest = file_sha256(path)
    with open(path, "ab") as stream:
        stream.write(b"\n" + TRAILER_PREFIX + digest.encode() + b"\n")
        stream.flush()


def check_weights_digest(path):
    """Raises WeightsFileError when a weights file that ends with the sha256 of its
    bytes no longer holds them. A file without one (older runs, others') passes."""
    expected, length = _trailer(path)
    if expected is not None and file_sha256(path, os.path.getsize(path) - length) != expected:
        raise WeightsFileError(path, "its bytes are not those whose sha256 it recorded when "
                               "it was written")
