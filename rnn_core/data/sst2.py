"""SST-2 (GLUE): ``train.tsv`` and ``dev.tsv`` with a ``sentence<TAB>label`` header."""
from __future__ import annotations

import csv
from pathlib import Path

from . import SOURCES, DataError, locate

SPLITS = ("train", "dev")


def load_split(split: str, data_dir: str | Path | None = None) -> tuple[list[str], list[int]]:
    """Sentences and labels (1 = positive) of one split.

    Args:
        split: ``train`` or ``dev`` (GLUE's test labels are hidden, so dev is reported).
        data_dir: a folder in the ``sst2/`` layout; default: see `rnn_core.data.locate`.
    """
    if split not in SPLITS:
        raise DataError(f"SST-2 has splits {SPLITS}, not {split!r}")
    path = locate(SOURCES["sst2"], data_dir) / f"{split}.tsv"
    texts, labels = [], []
    with open(path, newline="", encoding="utf-8") as f:
        # QUOTE_NONE: sentences contain bare quote characters.
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader, None)
        if header is None or header[:2] != ["sentence", "label"]:
            raise DataError(f"{path}: expected a 'sentence<TAB>label' header, got {header}")
        for row in reader:
            if len(row) >= 2 and row[1] in ("0", "1"):
                texts.append(row[0])
                labels.append(int(row[1]))
    if not texts:
        raise DataError(f"{path} holds no labelled sentences")
    return texts, labels
