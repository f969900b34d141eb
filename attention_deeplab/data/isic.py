"""The ISIC 2017 and 2018 lesion segmentation layouts, as the ISIC archive distributes them."""
from dataclasses import dataclass

from attention_deeplab.data.pairs import (
    find_dirs, layout_error, match_pairs, require_folder,
)
from attention_deeplab.errors import PrepareError


@dataclass(frozen=True)
class IsicLayout:
    """Where one ISIC challenge keeps its training images and masks.

    Args:
        name: str. Dataset name written to split.json.
        image_dir: str. Folder of ``ISIC_*.jpg`` images.
        mask_dir: str. Folder of ``ISIC_*_segmentation.png`` masks.
    """

    name: str
    image_dir: str
    mask_dir: str

    @property
    def expected(self):
        return (
            f"  {self.image_dir}/ISIC_0000000.jpg ...\n"
            f"  {self.mask_dir}/ISIC_0000000_segmentation.png ..."
        )


ISIC2018 = IsicLayout(
    "isic2018", "ISIC2018_Task1-2_Training_Input", "ISIC2018_Task1_Training_GroundTruth",
)
ISIC2017 = IsicLayout(
    "isic2017", "ISIC-2017_Training_Data", "ISIC-2017_Training_Part1_GroundTruth",
)
LAYOUTS = {layout.name: layout for layout in (ISIC2018, ISIC2017)}


def _locate(data_dir, name, layout):
    found = find_dirs(data_dir, name)
    if not found:
        raise layout_error(data_dir, layout.expected)
    if len(found) > 1:
        raise PrepareError(
            f"Several {name} folders under {data_dir}: "
            + ", ".join(str(p) for p in found) + ". Keep one."
        )
    return found[0]


def find_pairs(data_dir, layout, skip_unpaired=False, warn=print):
    """Lists the image/mask pairs of an ISIC challenge folder, sorted by id.

    The image folder of ISIC 2017 also holds ``*_superpixels.png`` files; only
    the ``.jpg`` images are read.

    Args:
        data_dir: str or Path. The unpacked dataset (its two folders may sit up
            to two levels down).
        layout: IsicLayout or str. ``ISIC2018``, ``ISIC2017`` or their names.
        skip_unpaired: bool. Leave out ids lacking a mask or an image.
            Defaults to False.
        warn: callable. Receives notes about skipped files. Defaults to print.

    Returns:
        list of Pair.
    """
    layout = LAYOUTS[layout] if isinstance(layout, str) else layout
    data_dir = require_folder(data_dir, layout.expected)
    image_dir = _locate(data_dir, layout.image_dir, layout)
    mask_dir = _locate(data_dir, layout.mask_dir, layout)
    images = {
        p.stem: p for p in image_dir.iterdir()
        if p.name.startswith("ISIC_") and p.suffix.lower() in (".jpg", ".jpeg")
    }
    suffix = "_segmentation.png"
    masks = {
        p.name[: -len(suffix)]: p for p in mask_dir.iterdir()
        if p.name.startswith("ISIC_") and p.name.lower().endswith(suffix)
    }
    if not images and not masks:
        raise PrepareError(
            f"No ISIC_*.jpg images in {image_dir} and no ISIC_*{suffix} masks in "
            f"{mask_dir}. Expected:\n{layout.expected}"
        )
    return match_pairs(images, masks, skip_unpaired=skip_unpaired, warn=warn)
