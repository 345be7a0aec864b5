"""IMDB's full reviews as extra labelled training examples of everyday length.

A review's label is the whole review's, and most of its sentences retell the plot;
the verdict usually closes it ("Avoid.", "A must see, 10/10"). So each review gives
one example: its closing sentences, as many as fit in ``max_tokens`` tokens (at least
the last one, cut to that length), labelled with the review's label. Sentence-length
examples also match what a visitor types, where whole reviews would not, and keep
training affordable on two cores.
"""
from __future__ import annotations

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


def review_examples(reviews: list[str], labels: list[int], max_tokens: int) -> tuple[list[str], list[int]]:
    """One example per review: its closing sentences and its label."""
    return [closing_sentences(r, max_tokens) for r in reviews], list(labels)
