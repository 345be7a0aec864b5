"""Sentiment data as model inputs: SST-2 sentences tokenised and encoded, batched by
length, and the accuracy of a classifier on them."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

import torch

from ...batching import bucketed_batches
from ...data.sst2 import load_split
from ...encoders.text import WordEncoder, tokenize
from ...runtime import device_of, evaluating, to_device
from .predictor import MAX_WORDS


@dataclass
class Encoded:
    """Sentences as model inputs: token ids, labels, and where subwords come from.

    Training data holds only known words, so their subword ids come from the
    encoder's table with one gather per batch; evaluation data keeps each token's
    own subword ids, since an unseen word is exactly where they matter.
    """
    seqs: list[list[int]]
    labels: list[int]
    subs: list[list[list[int]]] | None = None   # per-token subword ids (evaluation data)
    table: torch.Tensor | None = None           # vocab -> subword ids (training data)
    _eval: list[dict] | None = field(default=None, repr=False)

    def batches(self, batch_size: int, seed: int | None = None) -> list[dict]:
        """Length-bucketed batches (shuffled when ``seed`` is given)."""
        batches = bucketed_batches(self.seqs, self.labels, batch_size, seed=seed, subwords=self.subs)
        if self.table is not None:
            for b in batches:
                b["subwords"] = self.table[b["x"]]
        return batches

    def with_long_repeated(self, min_len: int, copies: int) -> "Encoded":
        """The data with every sequence of ``min_len``+ tokens ``copies`` times more.

        SST-2's training phrases are mostly short fragments while dev holds whole
        sentences; repeating the long phrases moves training towards what is scored."""
        idx = [i for i, s in enumerate(self.seqs) for _ in range(1 + copies * (len(s) >= min_len))]
        return Encoded([self.seqs[i] for i in idx], [self.labels[i] for i in idx],
                       None if self.subs is None else [self.subs[i] for i in idx], self.table)

    def plus(self, other: "Encoded") -> "Encoded":
        """Both sets of training data in one (``other`` after this one)."""
        if (self.subs is None) != (other.subs is None):
            raise ValueError("cannot join training data with evaluation data")
        return Encoded(self.seqs + other.seqs, self.labels + other.labels,
                       None if self.subs is None else self.subs + other.subs, self.table)

    def eval_batches(self, batch_size: int = 256) -> list[dict]:
        """Batches in the original order, built once: validation runs many times."""
        if self._eval is None:
            self._eval = self.batches(batch_size)
        return self._eval


def encode_texts(enc: WordEncoder, texts: list[str], labels: list[int], for_training: bool = False) -> Encoded:
    """Tokenise (cut at `MAX_WORDS`) and encode sentences."""
    tokens = [tokenize(t)[:MAX_WORDS] for t in texts]
    seqs = [enc.encode_tokens(ts) for ts in tokens]
    if not enc.subword_buckets:
        return Encoded(seqs, list(labels))
    if for_training:
        return Encoded(seqs, list(labels), table=enc.subword_table())
    return Encoded(seqs, list(labels), subs=[[enc.subwords(w) for w in ts] for ts in tokens])


@functools.lru_cache(maxsize=2)
def load_data(data_dir: str | None = None, min_freq: int = 1, subword_buckets: int = 0,
              more_words: tuple[str, ...] = ()):
    """Encoder built on train (plus ``more_words``, e.g. the most frequent words of a
    larger corpus), and the encoded train and dev sets. Cached: the UI's retrains
    reuse the tokenised data."""
    train_texts, train_labels = load_split("train", data_dir)
    dev_texts, dev_labels = load_split("dev", data_dir)
    enc = WordEncoder.build(train_texts, min_freq=min_freq, subword_buckets=subword_buckets)
    if more_words:
        enc = WordEncoder(enc.vocab + [w for w in more_words if w not in enc.index], subword_buckets)
    return (enc, encode_texts(enc, train_texts, train_labels, for_training=True),
            encode_texts(enc, dev_texts, dev_labels))


def predictions(model, data: Encoded) -> list[int]:
    """The class the model gives each sentence of ``data``, in order."""
    out, device = [], device_of(model)
    with evaluating(model):
        for b in data.eval_batches():
            b = to_device(b, device)
            logits, _ = model(b["x"], lengths=b["lengths"], subwords=b.get("subwords"))
            out += logits.argmax(-1).tolist()
    return out


def accuracy(model, data: Encoded) -> float:
    """Share of ``data`` classified as its labels."""
    right = sum(p == y for p, y in zip(predictions(model, data), data.labels))
    return right / max(1, len(data.seqs))
