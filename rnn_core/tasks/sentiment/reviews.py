"""IMDB's full reviews as extra labelled training examples of everyday length.

A review's label is the whole review's, and most of its sentences retell the plot;
the verdict usually closes it ("Avoid.", "A must see, 10/10"). So each review gives
one example: its closing sentences, as many as fit in ``max_tokens`` tokens (at least
the last one, cut to that length), labelled with the review's label. Sentence-length
examples also match what a visitor types, where whole reviews would not, and keep
training affordable on two cores.
"""
from __future__ import annotations

import random
import re

from ...encoders.text import tokenize

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def closing_sentences(review: str, max_tokens: int) -> str:
    """The last sentences of ``review`` that fit in ``max_tokens`` tokens."""
    sentences = [s for s in _SENTENCE_END.split(review.strip()) if s]
    kept, used = [], 0
    for sentence in reversed(sentences):
        n = len(tokenize(sentence))
        if kept and used + n > max_tokens:
            break
        kept.insert(0, sentence)
        used += n
    text = " ".join(kept)
    if used > max_tokens:  # a single long last sentence: keep its end
        text = " ".join(tokenize(text)[-max_tokens:])
    return text


def pieces(review: str, max_tokens: int) -> list[str]:
    """``review`` cut at sentence ends into pieces of at most ``max_tokens`` tokens
    each (a longer sentence is a piece of its own, cut to its first ``max_tokens``)."""
    out, kept, used = [], [], 0
    for sentence in _SENTENCE_END.split(review.strip()):
        tokens = tokenize(sentence)
        if kept and used + len(tokens) > max_tokens:
            out.append(" ".join(kept))
            kept, used = [], 0
        kept.append(sentence if len(tokens) <= max_tokens else " ".join(tokens[:max_tokens]))
        used += min(len(tokens), max_tokens)
    if kept:
        out.append(" ".join(kept))
    return out


def review_examples(reviews: list[str], labels: list[int], max_tokens: int, more_pieces: int = 0,
                    seed: int = 0) -> tuple[list[str], list[int]]:
    """One example per review: its closing sentences and its label; with
    ``more_pieces``, also that many of its other `pieces` (drawn at random, seeded),
    each labelled with the whole review's label. Those labels are noisy (a piece may
    only retell the plot), but they show the network reviewers' everyday words, which a
    bag of words trained on full reviews reads well off its home ground."""
    texts, out_labels = [closing_sentences(r, max_tokens) for r in reviews], list(labels)
    if more_pieces:
        rng = random.Random(seed)
        for review, label in zip(reviews, labels):
            rest = pieces(review, max_tokens)[:-1]  # the last piece overlaps the closing
            for piece in rng.sample(rest, min(more_pieces, len(rest))):
                texts.append(piece)
                out_labels.append(label)
    return texts, out_labels
