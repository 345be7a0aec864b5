"""Nottingham Music Database (MIDI): 1,000-odd British and American folk tunes.

Tunes are split by file, never inside a tune, and by a hash of the file name, so a
tune keeps its split whatever other files a copy holds: about 80% train, 10% dev,
10% test.
"""
from __future__ import annotations

import functools
import warnings
import zlib
from pathlib import Path

from ..encoders.melody import Melody, MelodyError, diatonic_shift
from ..encoders.midi import melody_from_midi
from . import SOURCES, DataError, locate

SPLITS = ("train", "dev", "test")


def split_of(name: str) -> str:
    """"train", "dev" or "test" for the tune file called ``name`` (stable hash)."""
    bucket = zlib.crc32(Path(name).stem.encode()) % 10
    return "dev" if bucket == 0 else "test" if bucket == 1 else "train"


def tune_files(data_dir: str | Path | None = None) -> list[Path]:
    """The melody-track MIDI files, sorted (see `rnn_core.data.locate`)."""
    folder = locate(SOURCES["nottingham"], data_dir) / "MIDI" / "melody"
    files = sorted(folder.glob("*.mid"))
    if not files:
        raise DataError(f"no .mid files in {folder}")
    return files


def key_shift(pm) -> int | None:
    """The transposition to C major / A minor from the file's first key signature
    (Nottingham's are all major keys); None when the file has none."""
    if not pm.key_signature_changes:
        return None
    k = pm.key_signature_changes[0].key_number
    tonic = k % 12 if k < 12 else (k % 12 + 3) % 12  # a minor key -> its relative major
    return (-tonic + 6) % 12 - 6


def load_tunes(data_dir: str | Path | None = None) -> dict[str, list[tuple[str, Melody]]]:
    """{split: [(tune name, key-normalised melody)]}; tunes that cannot be read are skipped."""
    return _read_tunes(tuple(str(f) for f in tune_files(data_dir)))


@functools.lru_cache(maxsize=4)
def _read_tunes(files: tuple[str, ...]) -> dict[str, list[tuple[str, Melody]]]:
    import pretty_midi

    out = {s: [] for s in SPLITS}
    for path in map(Path, files):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the files put meta events on track 1
                pm = pretty_midi.PrettyMIDI(str(path))
            melody, _ = melody_from_midi(pm)
        except (MelodyError, OSError, ValueError):
            continue
        shift = key_shift(pm)
        if shift is None:
            shift = diatonic_shift([p for p, _, _ in melody.notes], [e - s for _, s, e in melody.notes])
        out[split_of(path.name)].append((path.stem, melody.transpose(shift)))
    return out
