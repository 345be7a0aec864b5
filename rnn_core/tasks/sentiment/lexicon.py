"""Lexicon knowledge: VADER's human-rated words as extra one-word training examples.

VADER's lexicon (Hutto & Gilbert 2014, MIT licence) rates 7,520 words, slang and
emoticons from -4 to 4, each by ten people. SST-2 never shows the network
"overpriced", "disliked", "lol" or ":(" with a label; these examples do, and the
words join the vocabulary. The lexicon ships inside the ``vaderSentiment`` package
(a development requirement, as the peer `evaluate` reports), and its file is checked
against the digest below before it is used.
"""
from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from ...data import DataError
from ...encoders.text import normalize, tokenize

# vader_lexicon.txt as shipped in vaderSentiment 3.3.2 on PyPI (MIT licence).
LEXICON_SHA256 = "1ec9c6e9ee19aade328f8beb393a6afa71a5bb3acf7d3cc22d4ef568df374bf5"


def lexicon_path() -> Path:
    """The lexicon file inside the installed vaderSentiment package."""
    try:
        import vaderSentiment
    except ImportError as e:
        raise DataError("the lexicon ships with vaderSentiment: pip install vaderSentiment==3.3.2") from e
    path = Path(vaderSentiment.__file__).parent / "vader_lexicon.txt"
    if hashlib.sha256(path.read_bytes()).hexdigest() != LEXICON_SHA256:
        raise DataError(f"{path} differs from vaderSentiment 3.3.2's lexicon; install that version")
    return path


@functools.lru_cache(maxsize=2)  # training reads it twice: for the vocabulary and the examples
def rated_words(min_strength: float = 1.0, path: Path | None = None) -> tuple[list[str], list[int]]:
    """Lexicon entries rated at least ``min_strength`` from neutral that our tokenizer
    reads as one token (a word or an emoticon), with their sign (1 = positive)."""
    words, labels = [], []
    for line in (path or lexicon_path()).read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) < 2:
            continue
        token, rating = parts[0], float(parts[1])
        if abs(rating) >= min_strength and len(tokenize(token)) == 1:
            words.append(normalize(token))
            labels.append(int(rating > 0))
    return words, labels
