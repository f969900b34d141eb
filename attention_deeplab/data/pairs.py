"""Image/mask pairs found in a dataset folder, and the errors that name what is wrong."""
from dataclasses import dataclass
from pathlib import Path

from attention_deeplab.errors import PrepareError

# How many ids or folder entries an error message lists before "...".
SHOWN = 5


@dataclass(frozen=True)
class Pair:
    """One example: its id (e.g. ``ISIC_0000000``), image file and mask file."""

    id: str
    image: Path
    mask: Path


def _first(ids, count=SHOWN):
    ids = sorted(ids)
    shown = ", ".join(ids[:count])
    return shown + (f", ... ({len(ids)} in all)" if len(ids) > count else "")


def match_pairs(images, masks, skip_unpaired=False, warn=print):
    """Pairs images with masks by id, sorted by id.

    Args:
        images: dict. Id -> image path.
        masks: dict. Id -> mask path.
        skip_unpaired: bool. Leave out ids that have only one of the two
            instead of failing. Defaults to False.
        warn: callable. Receives the note about skipped ids. Defaults to print.

    Returns:
        list of Pair, sorted by id.

    Raises:
        PrepareError: some ids lack their mask or image and skip_unpaired is off.
    """
    no_mask = set(images) - set(masks)
    no_image = set(masks) - set(images)
    problems = []
    if no_mask:
        problems.append(f"{len(no_mask)} image(s) without a mask: {_first(no_mask)}")
    if no_image:
        problems.append(f"{len(no_image)} mask(s) without an image: {_first(no_image)}")
    if problems and not skip_unpaired:
        raise PrepareError(
            "; ".join(problems) + ". Restore the missing files or pass --skip-unpaired."
        )
    if problems:
        warn("Skipping unpaired files (--skip-unpaired): " + "; ".join(problems))
    return [Pair(key, images[key], masks[key]) for key in sorted(set(images) & set(masks))]


def describe_folder(folder, limit=10):
    """A short listing of what a folder holds, for layout errors."""
    folder = Path(folder)
    entries = sorted(folder.iterdir(), key=lambda p: p.name)
    names = [p.name + ("/" if p.is_dir() else "") for p in entries[:limit]]
    if not names:
        return f"{folder} is empty"
    more = f", ... ({len(entries)} entries)" if len(entries) > limit else ""
    return f"{folder} holds: " + ", ".join(names) + more


def require_folder(folder, expected):
    """Fails with the expected layout when the dataset folder is missing."""
    folder = Path(folder)
    if not folder.is_dir():
        raise PrepareError(
            f"Dataset folder {folder} does not exist. Expected layout:\n{expected}"
        )
    return folder


def layout_error(folder, expected):
    """The error for a folder whose contents match no known layout."""
    return PrepareError(
        f"Unrecognised layout in {folder}. Expected:\n{expected}\nFound: "
        + describe_folder(folder)
    )


def hidden(path, root):
    """True for paths under a hidden folder or macOS unzip debris (``__MACOSX``)."""
    parts = Path(path).relative_to(root).parts
    return any(part.startswith((".", "__MACOSX")) for part in parts)


def find_dirs(root, name, max_depth=2):
    """Folders called ``name`` at most ``max_depth`` levels under ``root``, sorted."""
    root = Path(root)
    found, level = [], [root]
    for _ in range(max_depth + 1):
        found += [p for p in level if p.name == name and p != root]
        if found:
            return sorted(found)
        # Skip hidden folders and macOS unzip debris (__MACOSX holds ._ copies).
        level = [c for p in level for c in sorted(p.iterdir())
                 if c.is_dir() and not c.name.startswith((".", "__MACOSX"))]
    return []
