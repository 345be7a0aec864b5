"""Word-level text encoding shared by training, evaluation, the baseline and the UI.

The tokenizer follows the Penn-Treebank style the SST sentences are written in
(lower case, punctuation split off, "don't" -> "do n't"), so that what a visitor
types is cut the same way as the training data was.
"""
from __future__ import annotations

import re
import unicodedata
import zlib
from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

PAD, UNK = "<pad>", "<unk>"
_CLITIC = re.compile(r"(?<=\w)(n't|'s|'re|'ve|'ll|'d|'m)\b", re.IGNORECASE)
# Negations typed without the apostrophe ("dont", "isnt"), as in tweets and quick
# reviews, are cut like the treebank's "do n't" so the network reads one "n't".
_BARE_NOT = re.compile(r"\b(do|does|did|is|are|was|were|ca|could|would|should|have|has|had|ai)(nt)\b",
                       re.IGNORECASE)
# Emoticons are one token each (":)" is a verdict; ":" and ")" are nothing), as in
# VADER's lexicon; they are tried before single punctuation.
_EMOTICON = r"<3+|[:;=][-o*']?(?:\){2,}|\({2,}|[()\[\]DPp/\\|*@])(?![\w/])"
_TOKEN = re.compile(_EMOTICON + r"|n't|'\w+|\w+(?:[-']\w+)*|[^\w\s]", re.UNICODE)
_REPEAT = re.compile(r"(\w)\1{2,}")


def tokenize(text: str) -> list[str]:
    """Split text into word and punctuation tokens, keeping their original case."""
    # Control and other invisible characters carry no meaning; drop them first.
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    text = _CLITIC.sub(r" \1", text.replace("\u2019", "'"))
    return _TOKEN.findall(_BARE_NOT.sub(r"\1 n't", text))


_EMOTICON_ONLY = re.compile(_EMOTICON + r"$")


def is_word(token: str) -> bool:
    """Whether a token counts as a word: it has a letter or digit, or it is an
    emoticon (":)" says something); punctuation alone is not a word."""
    return any(c.isalnum() for c in token) or bool(_EMOTICON_ONLY.match(token))


def normalize(token: str) -> str:
    """The vocabulary's form of a token: lower case, with letters repeated for
    emphasis cut to two ("sooo" -> "soo", "goooood" -> "good")."""
    return _REPEAT.sub(r"\1\1", token.lower())


def char_ngrams(word: str, n_min: int = 3, n_max: int = 5, limit: int = 32) -> list[str]:
    """fastText-style character n-grams of ``<word>`` (the brackets mark its edges)."""
    w = f"<{word.lower()}>"
    grams = [w[i:i + n] for n in range(n_min, n_max + 1) for i in range(len(w) - n + 1)]
    return grams[:limit]


class WordEncoder:
    """Vocabulary of lower-cased tokens; id 0 is padding and id 1 any unknown word.

    With ``subword_buckets`` > 0, each token also gets the hashed ids (1..buckets) of its
    character n-grams, so a model can give a word it never saw in training a vector
    from its pieces ("unwatchably" shares "unw", "abl"... with words it knows).
    """

    def __init__(self, vocab: list[str], subword_buckets: int = 0):
        if vocab[:2] != [PAD, UNK]:
            raise ValueError("vocabulary must start with <pad>, <unk>")
        self.vocab = list(vocab)
        self.index = {w: i for i, w in enumerate(self.vocab)}
        self.subword_buckets = subword_buckets
        self._sub_cache: dict[str, list[int]] = {}

    @classmethod
    def build(cls, texts, min_freq: int = 1, max_size: int | None = None,
              subword_buckets: int = 0) -> "WordEncoder":
        """Vocabulary of the words seen at least ``min_freq`` times in ``texts``."""
        counts = Counter(normalize(t) for text in texts for t in tokenize(text))
        words = [w for w, c in counts.most_common(max_size) if c >= min_freq]
        return cls([PAD, UNK] + sorted(words, key=lambda w: (-counts[w], w)), subword_buckets)

    def subwords(self, token: str) -> list[int]:
        """Hashed character n-gram ids of ``token`` ([] when subwords are off).

        crc32, not Python's hash(): it must give the same ids in every process."""
        if not self.subword_buckets:
            return []
        key = token.lower()
        ids = self._sub_cache.get(key)
        if ids is None:
            ids = [zlib.crc32(g.encode("utf-8")) % self.subword_buckets + 1 for g in char_ngrams(key)]
            if len(self._sub_cache) < 200_000:  # bounded: visitors can type anything
                self._sub_cache[key] = ids
        return ids

    @property
    def vocab_size(self) -> int:
        """Number of ids, padding and unknown included."""
        return len(self.vocab)

    def subword_table(self) -> "torch.Tensor":
        """(vocab_size, K) subword ids of every vocabulary word, 0-padded: a batch of
        known words gets its subwords with one gather, ``table[x]``."""
        import torch

        rows = [[] if i < 2 else self.subwords(w) for i, w in enumerate(self.vocab)]
        table = torch.zeros(len(rows), max(1, max(map(len, rows))), dtype=torch.long)
        for i, r in enumerate(rows):
            table[i, :len(r)] = torch.tensor(r, dtype=torch.long)
        return table

    def encode_tokens(self, tokens: list[str]) -> list[int]:
        """Ids of tokens already cut (unknown words map to id 1)."""
        return [self.index.get(normalize(t), 1) for t in tokens]

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` (unknown words map to id 1)."""
        return self.encode_tokens(tokenize(text))

    def decode(self, ids) -> list[str]:
        """The words of ``ids`` (an unknown word reads ``<unk>``)."""
        return [self.vocab[i] for i in ids]

    def to_dict(self) -> dict:
        """Type, vocabulary and subword buckets."""
        return {"type": "words", "vocab": self.vocab, "subword_buckets": self.subword_buckets}

    @classmethod
    def from_dict(cls, d: dict) -> "WordEncoder":
        """The encoder ``to_dict`` described."""
        if d.get("type") != "words":
            raise ValueError(f"not a word encoder: {d.get('type')!r}")
        return cls(d["vocab"], d.get("subword_buckets", 0))


class CharEncoder:
    """Character vocabulary (for character-level language models).

    Characters outside the vocabulary cannot be fed to the network: `encode` drops
    them and `clean` reports which ones, so the UI can say so.
    """

    def __init__(self, chars: list[str]):
        self.chars = list(chars)
        self.index = {c: i for i, c in enumerate(self.chars)}

    @classmethod
    def build(cls, text: str) -> "CharEncoder":
        """The characters of ``text``, sorted."""
        return cls(sorted(set(text)))

    @property
    def vocab_size(self) -> int:
        """Number of characters."""
        return len(self.chars)

    def clean(self, text: str) -> tuple[str, list[str]]:
        """(text without unknown characters, the distinct characters dropped)."""
        dropped = sorted({c for c in text if c not in self.index})
        return "".join(c for c in text if c in self.index), dropped

    def encode(self, text: str) -> list[int]:
        """Ids of ``text``'s known characters (see `clean` for the others)."""
        return [self.index[c] for c in text if c in self.index]

    def decode(self, ids) -> str:
        """The text of ``ids``."""
        return "".join(self.chars[i] for i in ids)

    def to_dict(self) -> dict:
        """Type and characters."""
        return {"type": "chars", "chars": self.chars}

    @classmethod
    def from_dict(cls, d: dict) -> "CharEncoder":
        """The encoder ``to_dict`` described."""
        if d.get("type") != "chars":
            raise ValueError(f"not a character encoder: {d.get('type')!r}")
        return cls(d["chars"])
