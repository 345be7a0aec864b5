"""Tatoeba English-French pairs (manythings.org's ``fra-eng.zip``), split by English
sentence: every translation of one English sentence falls on the same side, so no
test sentence was seen in training under another translation."""
from __future__ import annotations

import zlib
from pathlib import Path

from . import SOURCES, DataError, locate

FILE = "eng-fra.txt"
SPLITS = ("train", "dev", "test")
# Shares of English sentences (by a hash of the sentence, so the split never moves
# when lines are added or reordered): 2% dev, 3% test, the rest train.
DEV_SHARE, TEST_SHARE = 0.02, 0.03


def load_pairs(data_dir: str | Path | None = None, path: str | Path | None = None) -> list[tuple[str, str]]:
    """Every ``English<TAB>French`` line of the set (or of the file ``path``) as a pair;
    lines without a tab are skipped.

    Raises:
        DataError: no pairs at all.
    """
    path = Path(path) if path is not None else locate(SOURCES["tatoeba"], data_dir) / FILE
    pairs = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 2 and parts[0].strip() and parts[1].strip():
                pairs.append((parts[0].strip(), parts[1].strip()))
    if not pairs:
        raise DataError(f"{path} holds no English<TAB>French pairs")
    return pairs


def part_of(english: str) -> str:
    """Which split an English sentence belongs to (stable: a hash of its text)."""
    u = zlib.crc32(" ".join(english.lower().split()).encode("utf-8")) / 2**32
    return "dev" if u < DEV_SHARE else "test" if u < DEV_SHARE + TEST_SHARE else "train"


def split_pairs(pairs: list[tuple[str, str]]) -> dict[str, list[tuple[str, str]]]:
    """``{"train", "dev", "test"} -> pairs``, split by English sentence (`part_of`)."""
    parts = {name: [] for name in SPLITS}
    for pair in pairs:
        parts[part_of(pair[0])].append(pair)
    return parts


def references(pairs: list[tuple[str, str]]) -> tuple[list[str], list[list[str]]]:
    """(distinct English sentences in order of first appearance, all French
    translations of each): the multi-reference test set."""
    refs: dict[str, list[str]] = {}
    for en, fr in pairs:
        refs.setdefault(en, []).append(fr)
    return list(refs), list(refs.values())
