"""Sentiment data beyond SST-2: IMDB's full movie reviews (for word vectors and extra
training) and the VADER paper's off-domain sentences (product reviews, tweets: dev
only, never trained on)."""
from __future__ import annotations

import csv
import re
from pathlib import Path

from . import SOURCES, DataError, locate

OFFDOMAIN = ("amazon-snippets", "tweets")
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)  # IMDB reviews keep the site's line breaks


def load_imdb(data_dir: str | Path | None = None) -> tuple[list[str], list[int]]:
    """IMDB reviews (HTML line breaks turned to spaces) and labels (1 = positive)."""
    path = locate(SOURCES["imdb"], data_dir) / "imdb.csv"
    csv.field_size_limit(1 << 24)  # a review can be longer than csv's 128 kB default
    texts, labels = [], []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        if next(reader, None) != ["review", "sentiment"]:
            raise DataError(f"{path}: expected a 'review,sentiment' header")
        for row in reader:
            if len(row) == 2 and row[1] in ("positive", "negative"):
                texts.append(_BREAK.sub(" ", row[0]))
                labels.append(int(row[1] == "positive"))
    if not texts:
        raise DataError(f"{path} holds no labelled reviews")
    return texts, labels


def load_offdomain(name: str, data_dir: str | Path | None = None,
                   download: bool = True) -> tuple[list[str], list[int]]:
    """One off-domain set (``amazon-snippets`` or ``tweets``): sentences and labels
    (``download``: fetch the set when it is nowhere on disk)."""
    if name not in OFFDOMAIN:
        raise DataError(f"no off-domain set {name!r}; there are {', '.join(OFFDOMAIN)}")
    path = locate(SOURCES["offdomain"], data_dir, download) / f"{name}.tsv"
    texts, labels = [], []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        if next(reader, None) != ["sentence", "label"]:
            raise DataError(f"{path}: expected a 'sentence<TAB>label' header")
        for row in reader:
            if len(row) >= 2 and row[1] in ("0", "1"):
                texts.append(row[0])
                labels.append(int(row[1]))
    return texts, labels
