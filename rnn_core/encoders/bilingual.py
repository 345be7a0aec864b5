"""Sentence pairs for translation: English words in, French words out, and back to
French text a person reads.

Both sides are lower-cased and cut into words and punctuation (an elision such as
"l'" or "qu'" stays one token with its apostrophe). Lower case halves the French
vocabulary; `PairEncoder.decode` puts capitals back: the first word, and words the
training French writes capitalised inside a sentence (names: "Tom", "Paris"), learnt
from the data as a small table that travels with the encoder.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<s>", "</s>"
SPECIALS = (PAD, UNK, BOS, EOS)
_TOKEN = re.compile(r"\w+'|\w+|[^\w\s]", re.UNICODE)
_NO_SPACE_BEFORE = {",", ".", ")", "%", "'", "…"}
_FRENCH_SPACED = {"!", "?", ":", ";", "»"}  # French typography puts a space before these


def words(text: str) -> list[str]:
    """The tokens of ``text`` in their original case (control characters dropped,
    typographic apostrophes made plain)."""
    text = unicodedata.normalize("NFC", text).replace("\u2019", "'").replace("\u202f", " ").replace("\xa0", " ")
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    return _TOKEN.findall(text)


def is_word(token: str) -> bool:
    """Whether a token is a word (it has a letter or digit): punctuation and emoji are not."""
    return any(c.isalnum() for c in token)


def detokenize(tokens: list[str]) -> str:
    """French text from tokens: no space after an elision ("l'homme") or around a
    hyphen joining words ("est-ce"), none before , and ., one before ! ? : ;."""
    out = ""
    for i, tok in enumerate(tokens):
        prev = tokens[i - 1] if i else ""
        glue = not out or prev.endswith("'") or tok in _NO_SPACE_BEFORE or tok == "-" or prev == "-"
        out += tok if glue else " " + tok
    return out.strip()


class Vocab:
    """Tokens <-> ids; the four specials come first (``<pad>`` is 0)."""

    def __init__(self, tokens: list[str]):
        self.itos = list(SPECIALS) + [t for t in tokens if t not in SPECIALS]
        self.stoi = {t: i for i, t in enumerate(self.itos)}

    def __len__(self) -> int:
        return len(self.itos)

    def ids(self, tokens: list[str]) -> list[int]:
        """Ids of lower-case tokens (unknown ones: ``<unk>``'s)."""
        unk = self.stoi[UNK]
        return [self.stoi.get(t, unk) for t in tokens]


def _build_vocab(token_lists, min_freq: int, max_size: int | None) -> list[str]:
    counts = Counter(t for toks in token_lists for t in toks)
    kept = [t for t, c in counts.most_common() if c >= min_freq]
    return kept[:max_size] if max_size else kept


class PairEncoder:
    """English sentence -> source ids; French ids -> French text (the `Encoder`
    protocol); ``encode_target`` gives the ids training reads (``<s> ... </s>``)."""

    def __init__(self, source: list[str], target: list[str], capitals: dict[str, str] | None = None):
        self.src, self.tgt = Vocab(source), Vocab(target)
        self.capitals = dict(capitals or {})

    @classmethod
    def build(cls, pairs, min_freq: int = 2, max_source: int | None = None, max_target: int | None = None):
        """Vocabularies from training pairs (words seen at least ``min_freq`` times) and
        the table of words the French writes capitalised mid-sentence."""
        src = [[t.lower() for t in words(en)] for en, _ in pairs]
        tgt_cased = [words(fr) for _, fr in pairs]
        forms: dict[str, Counter] = {}
        for toks in tgt_cased:
            for t in toks[1:]:  # a sentence's first word is capitalised anyway
                forms.setdefault(t.lower(), Counter())[t] += 1
        capitals = {w: c.most_common(1)[0][0] for w, c in forms.items()
                    if c.most_common(1)[0][0] != w and sum(c.values()) >= min_freq}
        tgt = [[t.lower() for t in toks] for toks in tgt_cased]
        return cls(_build_vocab(src, min_freq, max_source), _build_vocab(tgt, min_freq, max_target), capitals)

    @property
    def vocab_size(self) -> int:
        """The French vocabulary's size (the decoder's output layer)."""
        return len(self.tgt)

    def encode(self, text: str) -> list[int]:
        """An English sentence's ids, ending with ``</s>``."""
        return self.encode_tokens(words(text))

    def encode_tokens(self, tokens: list[str]) -> list[int]:
        """The ids of English tokens (any case), ending with ``</s>``."""
        return self.src.ids([t.lower() for t in tokens]) + [self.src.stoi[EOS]]

    def encode_target(self, text: str) -> list[int]:
        """A French sentence's ids as the decoder reads and predicts them: ``<s> ... </s>``."""
        return [self.tgt.stoi[BOS]] + self.tgt.ids([t.lower() for t in words(text)]) + [self.tgt.stoi[EOS]]

    def unknown_source(self, text: str) -> list[str]:
        """The visitor's words the network has never seen (in their own case)."""
        return self.unknown(words(text))

    def unknown(self, tokens: list[str]) -> list[str]:
        """The words among English ``tokens`` that are not in the vocabulary."""
        return [t for t in tokens if is_word(t) and t.lower() not in self.src.stoi]

    def tokens(self, ids) -> list[str]:
        """French tokens of ``ids``, stopping at ``</s>``, skipping ``<s>``/``<pad>``."""
        out = []
        for i in ids:
            tok = self.tgt.itos[int(i)]
            if tok == EOS:
                break
            if tok not in (BOS, PAD):
                out.append(tok)
        return out

    def cased(self, tokens: list[str]) -> list[str]:
        """Capitals put back: names from the table, the first letter of each sentence."""
        out = [self.capitals.get(t, t) for t in tokens]
        for i, tok in enumerate(out):
            if i == 0 or out[i - 1] in {".", "!", "?"}:  # a sentence starts
                out[i] = tok[:1].upper() + tok[1:]
        return out

    def decode(self, ids) -> str:
        """French text for the decoder's ``ids``."""
        return detokenize(self.cased(self.tokens(ids)))

    def to_dict(self) -> dict:
        """The vocabularies and the capitals table (JSON-safe)."""
        return {"type": "pairs", "source": self.src.itos[len(SPECIALS):], "target": self.tgt.itos[len(SPECIALS):],
                "capitals": self.capitals}

    @classmethod
    def from_dict(cls, d: dict) -> "PairEncoder":
        """The encoder `to_dict` described."""
        if d.get("type") != "pairs":
            raise ValueError(f"not a sentence-pair encoder: {d.get('type')!r}")
        return cls(d["source"], d["target"], d.get("capitals"))
