"""Tiny Shakespeare: one text file; the first 90% of characters train, the last 10%
validate (the split char-rnn and nanoGPT use)."""
from __future__ import annotations

from pathlib import Path

from . import SOURCES, DataError, locate


def load_text(data_dir: str | Path | None = None) -> str:
    """The whole text (see `rnn_core.data.locate` for where it is looked for)."""
    path = locate(SOURCES["tinyshakespeare"], data_dir) / "input.txt"
    text = path.read_text(encoding="utf-8")
    if len(text) < 100:
        raise DataError(f"{path} holds only {len(text)} characters")
    return text


def split(text: str, train_share: float = 0.9) -> tuple[str, str]:
    """(train, validation) by position: no character is in both."""
    cut = int(len(text) * train_share)
    return text[:cut], text[cut:]
