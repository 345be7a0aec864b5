"""Making a set's offline layout from its canonical download, where the two differ.

The offline copies (``$RNN_GALLERY_DATA``) hold one tidy file per set; the canonical
downloads are the authors' own archives. These functions turn an unpacked archive
into the tidy file, so that a download and an offline copy load the same way. They
run inside `rnn_core.data.download.fetch`, after the archive's digest was checked.
"""
from __future__ import annotations

import csv
from pathlib import Path

# The off-domain sentiment sets: (file in the VADER paper's archive, our name).
VADER_SETS = (("amazonReviewSnippets_GroundTruth.txt", "amazon-snippets.tsv"),
              ("tweets_GroundTruth.txt", "tweets.tsv"))
CLEAR_RATING = 1.0  # kept: sentences whose mean rating (-4..4) is at least this far from neutral


def imdb_csv(folder: Path) -> None:
    """``aclImdb/{train,test}/{pos,neg}/*.txt`` -> ``imdb.csv`` (``review,sentiment``),
    train before test and positives first, as in the offline copy."""
    with open(folder / "imdb.csv", "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["review", "sentiment"])
        for part in ("train", "test"):
            for label, name in (("pos", "positive"), ("neg", "negative")):
                for path in sorted((folder / part / label).glob("*.txt")):
                    out.writerow([path.read_text(encoding="utf-8"), name])


def vader_tsvs(folder: Path) -> None:
    """The VADER paper's ``*_GroundTruth.txt`` (``id<TAB>mean rating<TAB>text``) ->
    ``sentence<TAB>label`` files holding only clearly rated sentences."""
    for src, dst in VADER_SETS:
        with open(folder / src, encoding="utf-8", errors="replace") as f, \
                open(folder / dst, "w", encoding="utf-8") as out:
            out.write("sentence\tlabel\n")
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) >= 3 and abs(float(parts[1])) >= CLEAR_RATING:
                    out.write(f"{parts[2]}\t{int(float(parts[1]) > 0)}\n")


def tatoeba_pairs(folder: Path) -> None:
    """manythings.org's ``fra.txt`` (``English<TAB>French[<TAB>attribution]``) ->
    ``eng-fra.txt`` holding the first two columns, as in the offline copy."""
    with open(folder / "fra.txt", encoding="utf-8") as f, open(folder / "eng-fra.txt", "w", encoding="utf-8") as out:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 2:
                out.write(f"{parts[0]}\t{parts[1]}\n")
