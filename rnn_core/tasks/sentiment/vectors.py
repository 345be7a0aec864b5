"""Word knowledge from unlabelled text: word2vec vectors trained here on IMDB's
reviews and SST-2's training phrases, used to start the sentiment network's
embedding table and to widen its vocabulary beyond SST-2's 14,700 words.

SST-2 alone never shows the network "disliked", "overpriced" or "sooo"; 13 million
words of reviewers' English do. The vectors are trained with gensim (a well-kept C
implementation: one pass over 13M words takes seconds, where a hand-written one in
torch would take the training budget) and cached, since every training run of the
same recipe uses the same vectors. gensim is needed only to train them, never by the
app: the vectors end up inside the network's embedding table.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from ...data import cache_dir
from ...data.reviews import load_imdb
from ...data.sst2 import load_split
from ...encoders.text import tokenize


def corpus(sst_dir: str | None = None, imdb_dir: str | None = None) -> list[list[str]]:
    """Lower-cased token lists: every IMDB review, then every SST-2 training phrase."""
    reviews, _ = load_imdb(imdb_dir)
    phrases, _ = load_split("train", sst_dir)
    return [[t.lower() for t in tokenize(text)] for text in reviews + phrases]


def train_vectors(sentences: list[list[str]], dim: int, seed: int = 0, epochs: int = 5,
                  min_count: int = 3, workers: int = 2) -> tuple[list[str], np.ndarray]:
    """word2vec (CBOW, window 5) over ``sentences``.

    Returns:
        (words, most frequent first; their vectors, (len(words), dim) float32)
    """
    try:
        from gensim.models import Word2Vec
    except ImportError as e:  # a training-time dependency only
        raise RuntimeError("training word vectors needs gensim: pip install gensim") from e
    model = Word2Vec(sentences, vector_size=dim, window=5, min_count=min_count, workers=workers,
                     epochs=epochs, seed=seed)
    words = list(model.wv.index_to_key)  # gensim sorts by frequency
    return words, np.asarray(model.wv.vectors, dtype=np.float32)


def cached_vectors(dim: int, seed: int = 0, sst_dir: str | None = None) -> tuple[list[str], np.ndarray]:
    """`train_vectors` over `corpus`, trained once and kept in the download cache
    (keyed by the settings and the corpus size)."""
    sentences = corpus(sst_dir)
    key = json.dumps({"dim": dim, "seed": seed, "sentences": len(sentences),
                      "tokens": sum(map(len, sentences))}, sort_keys=True)
    path = cache_dir() / "sentiment" / f"w2v-{hashlib.sha256(key.encode()).hexdigest()[:12]}.npz"
    if path.exists():
        stored = np.load(path)
        return stored["words"].tolist(), stored["vectors"].astype(np.float32)
    words, vectors = train_vectors(sentences, dim, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, words=np.array(words), vectors=vectors.astype(np.float16))
    tmp.replace(path)  # a half-written cache file is never read
    return words, vectors


def embedding_init(vocab: list[str], words: list[str], vectors: np.ndarray, std: float = 1.0) -> tuple[np.ndarray, int]:
    """Rows for ``vocab`` (ids 0 and 1, padding and unknown, stay zero), from the
    vectors where a word has one, scaled so that the vectors' standard deviation is
    ``std`` (that of a fresh `torch.nn.Embedding`), and random elsewhere.

    Returns:
        (the (len(vocab), dim) table, how many words had a vector)
    """
    index = {w: i for i, w in enumerate(words)}
    scaled = vectors / max(float(vectors.std()), 1e-8) * std
    rng = np.random.default_rng(0)
    table = rng.normal(0, std, (len(vocab), vectors.shape[1])).astype(np.float32)
    table[:2] = 0
    found = 0
    for i, w in enumerate(vocab[2:], start=2):
        j = index.get(w)
        if j is not None:
            table[i] = scaled[j]
            found += 1
    return table, found
