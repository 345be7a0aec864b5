"""Word-level text encoding shared by training, evaluation, the baseline and the UI.

The tokenizer follows the Penn-Treebank style the SST sentences are written in
(lower case, punctuation split off, "don't" -> "do n't"), so that what a visitor
types is cut the same way as the training data was.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter

PAD, UNK = "<pad>", "<unk>"
_CLITIC = re.compile(r"(?<=\w)(n't|'s|'re|'ve|'ll|'d|'m)\b", re.IGNORECASE)
_TOKEN = re.compile(r"n't|'\w+|\w+(?:[-']\w+)*|[^\w\s]", re.UNICODE)


def tokenize(text: str) -> list[str]:
    """Split text into word and punctuation tokens, keeping their original case."""
    # Control and other invisible characters carry no meaning; drop them first.
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    text = _CLITIC.sub(r" \1", text.replace("\u2019", "'"))
    return _TOKEN.findall(text)


class WordEncoder:
    """Vocabulary of lower-cased tokens; id 0 is padding and id 1 any unknown word."""

    def __init__(self, vocab: list[str]):
        if vocab[:2] != [PAD, UNK]:
            raise ValueError("vocabulary must start with <pad>, <unk>")
        self.vocab = list(vocab)
        self.index = {w: i for i, w in enumerate(self.vocab)}

    @classmethod
    def build(cls, texts, min_freq: int = 1, max_size: int | None = None) -> "WordEncoder":
        """Vocabulary of the words seen at least ``min_freq`` times in ``texts``."""
        counts = Counter(t.lower() for text in texts for t in tokenize(text))
        words = [w for w, c in counts.most_common(max_size) if c >= min_freq]
        return cls([PAD, UNK] + sorted(words, key=lambda w: (-counts[w], w)))

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def encode_tokens(self, tokens: list[str]) -> list[int]:
        return [self.index.get(t.lower(), 1) for t in tokens]

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` (unknown words map to id 1)."""
        return self.encode_tokens(tokenize(text))

    def decode(self, ids) -> list[str]:
        return [self.vocab[i] for i in ids]

    def to_dict(self) -> dict:
        return {"type": "words", "vocab": self.vocab}

    @classmethod
    def from_dict(cls, d: dict) -> "WordEncoder":
        if d.get("type") != "words":
            raise ValueError(f"not a word encoder: {d.get('type')!r}")
        return cls(d["vocab"])
