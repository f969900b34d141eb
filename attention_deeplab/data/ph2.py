"""The PH2 database: its own folder layout, or the flat one the original script read."""
from attention_deeplab.data.pairs import (
    hidden, layout_error, match_pairs, require_folder,
)
from attention_deeplab.errors import PrepareError

EXPECTED = (
    "  the database's layout, anywhere under the folder:\n"
    "    PH2 Dataset images/IMD002/IMD002_Dermoscopic_Image/IMD002.bmp\n"
    "    PH2 Dataset images/IMD002/IMD002_lesion/IMD002_lesion.bmp\n"
    "  or the flat layout:\n"
    "    lesions/IMD002.bmp\n"
    "    masks/IMD002_lesion.bmp"
)


def _database_layout(data_dir):
    """Images and masks of the database's layout: case folders anywhere below."""
    images, masks = {}, {}
    for folder in sorted(data_dir.rglob("*_Dermoscopic_Image")):
        if hidden(folder, data_dir):
            continue
        case = folder.name[: -len("_Dermoscopic_Image")]
        image = folder / f"{case}.bmp"
        if image.is_file() and case in images:
            raise PrepareError(f"Two copies of PH2 case {case}: {images[case]} and {image}. "
                               "Keep one copy of the database under the folder.")
        if image.is_file():
            images[case] = image
        mask = folder.parent / f"{case}_lesion" / f"{case}_lesion.bmp"
        if mask.is_file():
            masks[case] = mask
    # Lesion folders whose case has no image folder are unpaired masks too.
    for folder in sorted(data_dir.rglob("*_lesion")):
        case = folder.name[: -len("_lesion")]
        mask = folder / f"{folder.name}.bmp"
        if folder.is_dir() and mask.is_file() and not hidden(folder, data_dir):
            masks.setdefault(case, mask)
    return images, masks


def _flat_layout(data_dir):
    images = {p.stem: p for p in (data_dir / "lesions").glob("*.bmp")}
    masks = {p.stem[: -len("_lesion")]: p for p in (data_dir / "masks").glob("*_lesion.bmp")}
    return images, masks


def layout_of(data_dir):
    """``"database"`` or ``"flat"``: which PH2 layout ``data_dir`` holds."""
    data_dir = require_folder(data_dir, EXPECTED)
    if any(not hidden(p, data_dir) for p in data_dir.rglob("*_Dermoscopic_Image")):
        return "database"
    if (data_dir / "lesions").is_dir() and (data_dir / "masks").is_dir():
        return "flat"
    raise layout_error(data_dir, EXPECTED)


def find_pairs(data_dir, skip_unpaired=False, warn=print):
    """Lists the image/mask pairs of a PH2 folder (either layout), sorted by id.

    Args:
        data_dir: str or Path. The unpacked database.
        skip_unpaired: bool. Leave out ids lacking a mask or an image.
            Defaults to False.
        warn: callable. Receives notes about skipped files. Defaults to print.

    Returns:
        list of Pair.
    """
    data_dir = require_folder(data_dir, EXPECTED)
    layout = layout_of(data_dir)
    images, masks = (_database_layout if layout == "database" else _flat_layout)(data_dir)
    if not images and not masks:
        raise PrepareError(f"No PH2 .bmp images or masks in {data_dir}. Expected:\n{EXPECTED}")
    return match_pairs(images, masks, skip_unpaired=skip_unpaired, warn=warn)
