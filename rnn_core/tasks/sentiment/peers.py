"""The sentiment network beside its peers, off its home ground: accuracy on the
off-domain sets (product reviews, tweets), per set, with the TF-IDF baseline and
VADER (the lexicon scorer people already use) on the very same sentences.

VADER was developed on these two sets, so it is strong there: a peer to report, not
the bar. The bar is the bag of words trained on the same data as the network.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ...data import DataError
from ...data.reviews import OFFDOMAIN, load_offdomain

VADER_NAME = "VADER (lexicon and rules)"


def vader_classifier() -> Callable[[list[str]], list[int]] | None:
    """VADER's verdict (compound score >= 0: positive), or None where the
    ``vaderSentiment`` package (a development requirement) is not installed."""
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError:
        return None
    analyzer = SentimentIntensityAnalyzer()
    return lambda texts: [int(analyzer.polarity_scores(t)["compound"] >= 0) for t in texts]


def offdomain_report(classifiers: dict[str, Callable[[list[str]], list[int]]],
                     data_dir: str | None = None) -> dict:
    """Accuracy of each of ``classifiers`` (name -> texts -> labels) on every
    off-domain set that can be found, and their mean over the sets.

    Returns:
        ``{set: {"examples": n, name: accuracy, ...}, "mean": {name: ...}}``, or
        ``{"missing": "why"}`` when the sets are not available (no download offline).
    """
    report = {}
    for name in OFFDOMAIN:
        try:
            texts, labels = load_offdomain(name, data_dir, download=False)
        except DataError as e:
            return {"missing": f"off-domain sets not available ({e}); `python -m rnn_core download "
                               "sentiment` fetches them"}
        report[name] = {"examples": len(texts)}
        for who, classify in classifiers.items():
            report[name][who] = round(float(np.mean(np.equal(classify(texts), labels))), 4)
    report["mean"] = {who: round(float(np.mean([report[s][who] for s in OFFDOMAIN])), 4) for who in classifiers}
    return report


def offdomain_table(report: dict) -> str:
    """`offdomain_report` as a text table: one row per set, one column per classifier."""
    if "missing" in report:
        return report["missing"]
    names = list(report["mean"])
    width = max(len(s) for s in report)
    lines = [f"{'set':<{width}}  " + "  ".join(names)]
    for s, row in report.items():
        lines.append(f"{s:<{width}}  " + "  ".join(f"{row[n]:>{len(n)}.3f}" for n in names))
    return "\n".join(lines)
