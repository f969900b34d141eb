"""Files written whole or not at all, and JSON read with an error that names the file.

Every file the project writes for a user to keep (config.json, history.csv,
weights, figures, metrics) goes through `atomic_path`: a temporary file beside
the target, renamed onto it once complete, removed if anything fails. A kill at
any moment therefore leaves the old file or the new one, never half of one.
"""
import contextlib
import json
import os
import tempfile
from pathlib import Path


def make_temporary(path, suffix=".tmp"):
    """A temporary file beside `path`, with the permissions a plain `open` would give
    (mkstemp's are owner-only), for writing and renaming onto `path`.

    Returns:
        (handle, name): an open OS-level handle and the temporary file's path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    return handle, tmp


@contextlib.contextmanager
def atomic_path(path, suffix=None):
    """Yields a temporary path to write; on success it replaces `path`, on failure it goes.

    Args:
        path: str or Path. The file to (re)place.
        suffix: str or None. The temporary file's suffix, for writers that pick a
            format from it (".weights.h5", ".png"). Defaults to the target's.
    """
    path = Path(path)
    handle, tmp = make_temporary(path, suffix=path.suffix if suffix is None else suffix)
    os.close(handle)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def write_text_atomic(path, text, sync=True):
    """Writes `text` to `path` atomically (fsync'd before the rename when `sync`)."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="") as stream:
            stream.write(text)
            if sync:
                stream.flush()
                os.fsync(stream.fileno())


def write_json_atomic(path, payload):
    """Writes `payload` as indented, key-sorted JSON to `path` atomically."""
    write_text_atomic(path, json.dumps(payload, indent=2, sort_keys=True) + "\n")


def read_json(path, error=ValueError, hint=""):
    """A JSON file's content, or None when the file does not exist.

    Args:
        path: str or Path. The file.
        error: type. The exception raised for an unreadable or invalid file.
        hint: str. What to do about it, appended to the message.

    Raises:
        `error`: the file exists but cannot be read or is not valid JSON.
    """
    path = Path(path)
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as reason:
        raise error(f"{path} is damaged or not JSON ({reason}){hint}") from reason
