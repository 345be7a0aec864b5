"""Encoders turn a task's raw input into what its network reads, and back.

Every encoder follows one small protocol (Magenta's note-seq encoders are the model):
``encode(raw)``, ``decode(encoded)``, ``to_dict()`` and ``from_dict(d)``, so its
vocabulary or scaling travels inside a checkpoint's ``config.json`` and the loader
rebuilds exactly the encoder the network was trained with. Token encoders also say
their ``vocab_size``. tests/test_encoders.py checks the round trips of every one:

| encoder | raw | encoded |
|---|---|---|
| `text.WordEncoder` | a sentence | word ids (decode: the words, unknown ones as ``<unk>``) |
| `text.CharEncoder` | text | character ids |
| `bilingual.PairEncoder` | an English sentence | word ids (decode: French ids -> French text, capitals restored) |
| `events.MelodyEncoder` | a `melody.Melody` | event ids |
| `audio.CTCAlphabet` | a transcript | CTC label ids |
| `audio.LogMelFeatures` | an 8 kHz wave | (frames, n_mels) log-mel; decode: the frames' times |
| `rnn_core.tasks.forecast.features.SeriesEncoder` | a series | scaled features; decode: scaled target -> values |
"""
from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Encoder(Protocol):
    """What every encoder offers (see the module's table)."""

    def encode(self, raw: Any) -> Any:
        """The network's input for ``raw``."""

    def decode(self, encoded: Any) -> Any:
        """Back from the network's side to something a person reads."""

    def to_dict(self) -> dict:
        """Everything needed to rebuild this encoder (JSON-safe)."""

    @classmethod
    def from_dict(cls, d: dict) -> "Encoder":
        """The encoder ``to_dict`` described."""


@runtime_checkable
class TokenEncoder(Encoder, Protocol):
    """An encoder to token ids, which also says how many ids there are."""

    @property
    def vocab_size(self) -> int:
        """Number of distinct ids (the embedding's and output layer's size)."""
