"""A behavioural test suite for the sentiment model, in the spirit of CheckList
(Ribeiro et al. 2020): generated sentences whose verdict is clear to a reader and
that a bag of words gets wrong, grouped by the skill they test, beside the SST-2 dev
sentences that need the same skills.

Categories (`CATEGORIES`): negated positive ("The acting was not convincing." ->
negative), negated negative ("The ending was not boring at all." -> positive),
contrast with "but" both ways (the clause after "but" carries the verdict), neutral
filler around a clear verdict, and intensifiers and hedges. Each is made from its own
templates and word lists by a fixed seed, so the suite is the same on every run.

Training never sees these templates or these word lists as such (the suite would
then test memory, not reading): `augment.py`'s training phrases are made from SST-2's
own training phrases instead.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ...encoders.text import tokenize

PER_CATEGORY = 60          # cases drawn from each category's templates
NEGATIONS = frozenset({"not", "n't", "never", "no", "nothing", "hardly"})
CONTRASTS = frozenset({"but", "yet", "though"})

# Things a review talks about: (noun phrase, its verb "is"/"are").
PARTS = [("the acting", "is"), ("the script", "is"), ("the ending", "is"), ("the plot", "is"),
         ("the dialogue", "is"), ("the soundtrack", "is"), ("the direction", "is"),
         ("the story", "is"), ("the performances", "are"), ("the jokes", "are"),
         ("the characters", "are"), ("the visuals", "are")]
FILMS = ["film", "movie", "comedy", "drama", "thriller", "picture"]
POSITIVE = ["good", "great", "wonderful", "excellent", "enjoyable", "brilliant", "charming", "moving",
            "funny", "delightful", "beautiful", "clever", "memorable", "engaging", "impressive", "touching"]
NEGATIVE = ["bad", "awful", "terrible", "tedious", "disappointing", "stupid", "weak", "painful",
            "pointless", "lame", "clumsy", "annoying", "mediocre", "horrible", "ugly", "dreadful"]
# Negatives whose negation reads as praise ("not boring" is; "not horrible" is faint at best).
NEGATABLE = ["bad", "boring", "dull", "disappointing", "tedious", "predictable", "forgettable", "bland",
             "clumsy", "slow", "lame", "pointless"]
INTENSIFIERS = ["very", "really", "truly", "incredibly", "extremely", "remarkably", "so", "thoroughly"]
HEDGES = ["fairly", "mostly", "rather", "somewhat", "pretty", "reasonably", "a bit", "kind of"]
FILLER = ["I saw it last week with my sister.", "The theater was half empty.", "It runs about two hours.",
          "I went in knowing nothing about it.", "My friend picked it.", "It opened on a Friday.",
          "We watched it after dinner.", "It is based on a novel."]


@dataclass(frozen=True)
class Case:
    """One sentence of the suite, its expected label (1 positive) and its category."""
    text: str
    label: int
    category: str


def _past(verb: str) -> str:
    return {"is": "was", "are": "were"}[verb]


def _negated_positive():
    for (part, verb), pos, film in itertools.product(PARTS, POSITIVE, FILMS):
        yield from (f"{part.capitalize()} {verb} not {pos}.",
                    f"{part.capitalize()} {_past(verb)}n't {pos} at all.",
                    f"{part.capitalize()} {_past(verb)} never {pos}.",
                    f"I did not find {part} {pos}.",
                    f"I don't think {part} {verb} {pos}.",
                    f"It is not a {pos} {film}.",
                    f"There is nothing {pos} about {part}.",
                    f"This is hardly a {pos} {film}.")


def _negated_negative():
    for (part, verb), neg, film in itertools.product(PARTS, NEGATABLE, FILMS):
        yield from (f"{part.capitalize()} {verb} not {neg} at all.",
                    f"{part.capitalize()} {_past(verb)} never {neg}.",
                    f"I did not find {part} {neg} in the least.",
                    f"Not a {neg} moment in this {film}.",
                    f"There is nothing {neg} about this {film}.",
                    f"I don't think {part} {verb} {neg} at all.",
                    f"This {film} is never {neg}.")


def _contrast(first: list[str], second: list[str]):
    for (a, va), (b, vb), x, y, film in itertools.product(PARTS, PARTS, first, second, FILMS):
        if a == b:
            continue
        yield from (f"{a.capitalize()} {va} {x}, but {b} {vb} {y}.",
                    f"I expected it to be {x}, but it was {y}.",
                    f"Some say the {film} is {x}, but I found it {y}.",
                    f"{a.capitalize()} {_past(va)} {x}, but the {film} as a whole is {y}.",
                    f"The {film} starts {x} but ends up {y}.")


def _filler():
    for before, after, film in itertools.product(FILLER, FILLER, FILMS):
        if before == after:
            continue
        for words, label in ((POSITIVE, 1), (NEGATIVE, 0)):
            for word in words:
                yield from ((f"{before} The {film} was {word}. {after}", label),
                            (f"{before} It is a {word} {film}.", label))


def _intensity():
    for (part, verb), film in itertools.product(PARTS, FILMS):
        for words, label in ((POSITIVE, 1), (NEGATIVE, 0)):
            for adverb, word in itertools.product(INTENSIFIERS + HEDGES, words):
                yield from ((f"{part.capitalize()} {verb} {adverb} {word}.", label),
                            (f"A {adverb} {word} {film}.", label))


def _labelled(sentences, label: int):
    return ((s, label) for s in sentences)


CATEGORIES = {  # name -> (what it tests, a generator of (text, label))
    "negated positive": ("a positive word under not/never/n't -> negative",
                         lambda: _labelled(_negated_positive(), 0)),
    "negated negative": ("a negative word under not/never/n't -> positive",
                         lambda: _labelled(_negated_negative(), 1)),
    "contrast, then positive": ("negative, but positive -> positive",
                                lambda: _labelled(_contrast(NEGATIVE, POSITIVE), 1)),
    "contrast, then negative": ("positive, but negative -> negative",
                                lambda: _labelled(_contrast(POSITIVE, NEGATIVE), 0)),
    "neutral filler": ("a clear verdict between sentences that say nothing", _filler),
    "intensifiers and hedges": ("very/somewhat/a bit before a clear word", _intensity),
}


def cases(per_category: int = PER_CATEGORY, seed: int = 0) -> list[Case]:
    """The generated suite: ``per_category`` distinct cases drawn from each category
    (the same for the same seed)."""
    rng = np.random.default_rng(seed)
    out = []
    for name, (_, make) in CATEGORIES.items():
        pool = list(dict.fromkeys(make()))  # distinct, in a fixed order
        for i in sorted(rng.choice(len(pool), size=min(per_category, len(pool)), replace=False)):
            out.append(Case(pool[i][0], pool[i][1], name))
    return out


def dev_subsets(texts: list[str], labels: list[int]) -> dict[str, list[int]]:
    """Indices of the SST-2 dev sentences that need the suite's skills: "negation,
    positive" / "negation, negative" (a word of `NEGATIONS`, by label) and "contrast"
    (a word of `CONTRASTS`)."""
    words = [{t.lower() for t in tokenize(s)} for s in texts]
    return {
        "dev: negation, positive": [i for i, w in enumerate(words) if w & NEGATIONS and labels[i] == 1],
        "dev: negation, negative": [i for i, w in enumerate(words) if w & NEGATIONS and labels[i] == 0],
        "dev: contrast": [i for i, w in enumerate(words) if w & CONTRASTS],
    }


def score(predicted: list[int], suite: list[Case]) -> dict[str, float]:
    """Accuracy per category of predicted labels (one per case, in order)."""
    out: dict[str, list[bool]] = {}
    for p, case in zip(predicted, suite):
        out.setdefault(case.category, []).append(int(p) == case.label)
    return {name: round(float(np.mean(v)), 4) for name, v in out.items()}


def examples_of_failures(predicted: list[int], suite: list[Case], per_category: int = 3) -> list[dict]:
    """Up to ``per_category`` cases of each category whose predicted label is wrong
    ({"text", "expected", "category"}, in suite order): what the tab's "what this
    model cannot do" line picks from."""
    out, count = [], {}
    for p, case in zip(predicted, suite):
        if int(p) != case.label and count.get(case.category, 0) < per_category:
            count[case.category] = count.get(case.category, 0) + 1
            out.append({"text": case.text, "expected": ("negative", "positive")[case.label],
                        "category": case.category})
    return out
