"""The facts about each dataset, in one table: folders, Prepare script, the paper's split and scores.

Every script and module that needs one of these reads it from `DATASETS`, so
a dataset is added or corrected in one place. The folder layouts a Prepare
script reads live beside the readers (`data/isic.py`, `data/ph2.py`).
"""
from dataclasses import dataclass, field

DEFAULT_DATASET = "isic2018"


@dataclass(frozen=True)
class Dataset:
    """One dataset of the paper.

    Args:
        name: str. The `--dataset` value and split.json's "dataset".
        title: str. How the paper names it.
        data_dir: str. Default folder of the unpacked dataset and its prepared arrays.
        run_dir: str. Default training run folder.
        prepare_script: str. The script that writes its arrays.
        paper_split: tuple of int or None. Train, val, test sizes of the paper's
            protocol; None for a dataset outside the paper.
        paper_scores: dict. Scores the paper reports for Attention Deeplabv3+ on
            its test split (pooled, as the original computed them); empty if none.
    """

    name: str
    title: str
    data_dir: str
    run_dir: str
    prepare_script: str
    paper_split: tuple | None
    paper_scores: dict = field(default_factory=dict)


DATASETS = {dataset.name: dataset for dataset in (
    Dataset("isic2018", "ISIC 2018 (task 1)", "dataset_isic18", "output/isic2018",
            "Prepare_ISIC2018.py", (1815, 259, 520),  # paper: 2594 pairs
            # Azad et al. 2020, table 1; its JS column is pixel accuracy, so not listed.
            {"f1": 0.912, "sensitivity": 0.885, "specificity": 0.988, "accuracy": 0.964}),
    # The original script sliced [0:1399], [1399:1599], [1599:1999] (1399/200/400): it
    # left out the 2000th image and its training set lost one. We keep all 2000
    # (a deliberate change): one more training image, every later boundary one later.
    Dataset("isic2017", "ISIC 2017 (part 1)", "dataset_isic17", "output/isic2017",
            "Prepare_ISIC2017.py", (1400, 200, 400)),
    # Paper: 80 train, 20 val, 100 test after a permutation of the 200 ids (the
    # original shuffled unseeded; we permute with numpy.random.default_rng(seed)).
    Dataset("ph2", "PH2", "dataset_ph2", "output/ph2", "Prepare_ph2.py", (80, 20, 100)),
    # Your own images (Prepare_Folder.py): no paper split; 0.7/0.1/0.2 unless --split says.
    Dataset("folder", "Your own images", "data/mine", "output/mine", "Prepare_Folder.py", None),
)}


def get_dataset(name):
    """The `Dataset` named `name`.

    Raises:
        ValueError: an unknown name (the message lists the known ones).
    """
    try:
        return DATASETS[name]
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}: expected one of "
                         f"{', '.join(DATASETS)}") from None
