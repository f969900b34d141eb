"""Writing a prepared set atomically: seven files under temporary names, renamed at the end."""
import hashlib
import json
import os
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

from attention_deeplab.data.splits import SPLITS
from attention_deeplab.digests import ARRAYS_KEY, file_sha256
from attention_deeplab.provenance import versions

MANIFEST = "split.json"


class NpyRows:
    """A preallocated uint8 ``.npy`` file filled row by row with ``os.pwrite``.

    Rows go straight to the file, so memory stays at one row whatever the
    dataset size (the original held the whole set as float64 in memory).

    Args:
        path: Path. File to create.
        shape: tuple of int. Full array shape; rows are along the first axis.
    """

    def __init__(self, path, shape):
        self.path = Path(path)
        self.shape = tuple(shape)
        self.row_bytes = int(np.prod(shape[1:]))
        header = {"descr": "|u1", "fortran_order": False, "shape": self.shape}
        with open(self.path, "wb") as handle:
            npy_format.write_array_header_1_0(handle, header)
            self.offset = handle.tell()
            handle.truncate(self.offset + self.row_bytes * self.shape[0])
        self.fd = os.open(self.path, os.O_WRONLY)

    def write(self, row, data):
        if len(data) != self.row_bytes:
            raise ValueError(f"{self.path}: row {row} has {len(data)} bytes, not {self.row_bytes}")
        os.pwrite(self.fd, data, self.offset + row * self.row_bytes)

    def close(self):
        if self.fd is not None:
            os.fsync(self.fd)
            os.close(self.fd)
            self.fd = None


def _remove_stale_temporaries(folder):
    """Deletes temporaries left by a run that was killed outright (its pid is gone)."""
    for path in folder.glob(".*.tmp-*"):
        pid = path.name.rsplit(".tmp-", 1)[1]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            path.unlink(missing_ok=True)
        except PermissionError:
            pass  # alive, someone else's


class AtomicSet:
    """The six arrays of a prepared set, written under temporary names.

    ``commit(manifest)`` renames them into place and writes ``split.json``
    last; ``abort()`` (or an exception inside the ``with`` block) removes the
    temporary files, leaving any previous set untouched.

    Args:
        out_dir: Path. Destination folder (created if missing).
        sizes: dict. Split name -> number of rows.
        image_size: tuple of int. (height, width).
    """

    def __init__(self, out_dir, sizes, image_size):
        self.out_dir = Path(out_dir)
        self.created = not self.out_dir.exists()
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.tag = f".tmp-{os.getpid()}"
        _remove_stale_temporaries(self.out_dir)
        height, width = image_size
        self.files = {}
        try:
            for split in SPLITS:
                self.files["data_" + split] = NpyRows(
                    self._temp("data_" + split), (sizes[split], height, width, 3))
                self.files["mask_" + split] = NpyRows(
                    self._temp("mask_" + split), (sizes[split], height, width))
        except BaseException:
            self.abort()
            raise

    def _temp(self, name):
        suffix = "" if name == MANIFEST else ".npy"
        return self.out_dir / f".{name}{suffix}{self.tag}"

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        if kind is not None:
            self.abort()
        return False

    def write(self, split, row, image_bytes, mask_bytes):
        self.files["data_" + split].write(row, image_bytes)
        self.files["mask_" + split].write(row, mask_bytes)

    def abort(self):
        for rows in self.files.values():
            rows.close()
            rows.path.unlink(missing_ok=True)
        self._temp(MANIFEST).unlink(missing_ok=True)
        self.files = {}
        if self.created and not any(self.out_dir.iterdir()):
            self.out_dir.rmdir()  # a failed first run leaves no empty folder behind

    def commit(self, manifest):
        """Renames the arrays into place, then writes ``split.json`` last, with each
        array's sha256 added to `manifest` (outside its fingerprint, which describes the
        set's recipe: the same preparation keeps its fingerprint, and its runs resume)."""
        for rows in self.files.values():
            rows.close()
        manifest[ARRAYS_KEY] = {f"{name}.npy": file_sha256(rows.path)
                                for name, rows in self.files.items()}
        manifest_temp = self._temp(MANIFEST)
        manifest_temp.write_text(json.dumps(manifest, indent=2) + "\n")
        # Drop the old manifest first: should we die mid-rename, the folder has no
        # split.json rather than one describing a mixture of old and new arrays.
        (self.out_dir / MANIFEST).unlink(missing_ok=True)
        for name, rows in self.files.items():
            os.replace(rows.path, self.out_dir / f"{name}.npy")
        os.replace(manifest_temp, self.out_dir / MANIFEST)
        self.files = {}


def build_manifest(dataset, source, seed, image_size, ids, resize="fast", extra=None):
    """The ``split.json`` content, with a sha256 fingerprint of all but the versions.

    ``resize`` ("fast" or "exact") is how the images were resized; training
    copies it into config.json as ``data_resize``.

    ``extra`` (a cross-validation's fold and folds, the official splits' original
    sizes) is recorded and fingerprinted too.
    """
    manifest = {
        "dataset": dataset,
        "source": str(Path(source).resolve()),
        "seed": seed,
        "image_size": list(image_size),
        "resize": resize,
        "sizes": {split: len(ids[split]) for split in SPLITS},
        "ids": {split: list(ids[split]) for split in SPLITS},
        **(extra or {}),
    }
    # The default resize stays out of the fingerprint, so data prepared as before keeps
    # its fingerprint (and its runs resume); exact-resize data gets a fingerprint of its own.
    hashed = {k: v for k, v in manifest.items() if k != "resize" or v != "fast"}
    text = json.dumps(hashed, sort_keys=True, separators=(",", ":"))
    manifest["versions"] = versions("PIL")  # not part of the fingerprint
    manifest["fingerprint"] = hashlib.sha256(text.encode()).hexdigest()
    return manifest
