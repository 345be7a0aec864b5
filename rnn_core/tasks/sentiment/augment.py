"""Training phrases that teach word order where SST-2 has few examples of it:
negation ("not" + a phrase flips its label) and contrast (after "but", the second
clause carries the verdict), made from SST-2's own labelled training phrases.

SST-2's training set is every sub-phrase of its sentences, labelled, yet it holds only
27 phrases like "never dull" or "not bad": too few for a network to learn that
"not" turns a negative word around. These phrases add that signal.

Kept apart from the behavioural suite (`suite.py`) on purpose, so that the suite
measures reading rather than memory: no word of the suite's word lists is negated
here, the templates' subjects are not the suite's ("the acting", "the film"...) and
their frames are not the suite's templates, and contrast joins two real SST-2 phrases
rather than the suite's "X is A, but Y is B". What they share is the point: "not"
before a word, and "but" between two clauses.
"""
from __future__ import annotations

import numpy as np

from ...encoders.text import tokenize
from . import suite

# Templates of our own for "not <phrase>": none of them is a suite template.
NEGATION_TEMPLATES = ("it 's not {p} .", "hardly {p}", "never {p} .", "{s} is not {p} .", "{s} is n't {p}",
                      "not {p} , not for a moment .", "by no means {p} .", "{s} was never {p} .",
                      "no , {s} is not {p} .", "nothing {p} here .")
SUBJECTS = ("the result", "the whole affair", "this one", "the experience", "the production",
            "its central idea", "the evening", "what we get")
# Joining two phrases of opposite labels; the label is {b}'s.
CONTRAST_TEMPLATES = ("{a} , but {b}", "{a} , yet {b}", "although {a} , {b}", "{b} , though {a}",
                      "{a} but {b}")
_SUITE_WORDS = frozenset(w for words in (suite.POSITIVE, suite.NEGATIVE, suite.NEGATABLE, suite.FILMS)
                         for w in words) | suite.NEGATIONS | suite.CONTRASTS


def word_polarity(texts: list[str], labels: list[int], smoothing: float = 1.0) -> dict[str, float]:
    """Each word's log-odds of positive over the training phrases it occurs in
    (naive-Bayes style, add-``smoothing``): > 0 leans positive."""
    counts: dict[str, list[float]] = {}
    for text, label in zip(texts, labels):
        for w in {t.lower() for t in tokenize(text)}:
            counts.setdefault(w, [0.0, 0.0])[int(label)] += 1
    return {w: float(np.log((pos + smoothing) / (neg + smoothing))) for w, (neg, pos) in counts.items()}


def _phrases(texts: list[str], labels: list[int], lengths: range, min_polarity: float = 0.0
             ) -> list[tuple[str, int]]:
    """Distinct training phrases of ``lengths`` tokens (lower-cased), with their labels,
    that hold no negation or contrast word already and no word of the suite's lists.
    With ``min_polarity`` > 0, only phrases whose words' summed polarity
    (`word_polarity`) agrees with their label by at least that much: SST-2 labels even
    neutral fragments ("the lord"), and negating those teaches noise."""
    polarity = word_polarity(texts, labels) if min_polarity > 0 else {}
    out = {}
    for text, label in zip(texts, labels):
        tokens = [t.lower() for t in tokenize(text)]
        if len(tokens) not in lengths or set(tokens) & _SUITE_WORDS:
            continue
        if min_polarity > 0 and sum(polarity.get(t, 0.0) for t in tokens) * (1 if label else -1) < min_polarity:
            continue
        out.setdefault(" ".join(tokens), int(label))
    return sorted(out.items())


def negations(texts: list[str], labels: list[int], n: int, seed: int, min_polarity: float = 0.0
              ) -> list[tuple[str, int]]:
    """``n`` phrases "not <a training phrase of 1-3 words>" with the label flipped
    (``min_polarity``: see `_phrases`)."""
    pool = [(p, y) for p, y in _phrases(texts, labels, range(1, 4), min_polarity)
            if p[0].isalpha() and p.rstrip(" .,;:")]
    if not pool or n <= 0:
        return []
    rng = np.random.default_rng(seed)
    out = []
    for i in rng.integers(len(pool), size=n):
        phrase, label = pool[int(i)]
        phrase = phrase.rstrip(" .,;:")
        template = NEGATION_TEMPLATES[int(rng.integers(len(NEGATION_TEMPLATES)))]
        subject = SUBJECTS[int(rng.integers(len(SUBJECTS)))]
        out.append((template.format(p=phrase, s=subject), 1 - label))
    return out


def contrasts(texts: list[str], labels: list[int], n: int, seed: int, min_polarity: float = 0.0
              ) -> list[tuple[str, int]]:
    """``n`` phrases joining a training phrase of one label and one of the other (3-12
    words each) with but/yet/although/though; the label is the second clause's
    (``min_polarity``: see `_phrases`)."""
    pool = _phrases(texts, labels, range(3, 13), min_polarity)
    by_label = [[p for p, y in pool if y == k] for k in (0, 1)]
    if not all(by_label) or n <= 0:
        return []
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        label = int(rng.integers(2))  # the verdict: the phrase after "but"
        a = by_label[1 - label][int(rng.integers(len(by_label[1 - label])))].rstrip(" .,;:")
        b = by_label[label][int(rng.integers(len(by_label[label])))]
        template = CONTRAST_TEMPLATES[int(rng.integers(len(CONTRAST_TEMPLATES)))]
        out.append((template.format(a=a, b=b), label))
    return out
