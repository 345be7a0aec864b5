"""Scores more than one task needs: what a metric is (`Metric`), edit distance and character error rate (speech,
and any transcriber), histograms and the distance between them (describing what a
generator produces)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Metric:
    """A figure a task is judged by: its key in a metrics dict, how a person reads
    it, and which way is better."""
    key: str
    label: str
    higher_is_better: bool

    def best(self, values):
        """The best of ``values`` in this metric's direction."""
        return (max if self.higher_is_better else min)(values)

    def better(self, a, b) -> bool:
        """True when ``a`` is strictly better than ``b``."""
        return a > b if self.higher_is_better else a < b


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions) between strings."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def cer(hyps: list[str], refs: list[str]) -> float:
    """Character error rate: total edit distance over total reference characters."""
    return sum(map(edit_distance, hyps, refs)) / max(1, sum(map(len, refs)))


def histogram(values, bins) -> np.ndarray:
    """Normalised histogram of ``values`` over ``bins`` (values outside go to the last bin)."""
    index = {b: i for i, b in enumerate(bins)}
    h = np.zeros(len(bins))
    for v in values:
        h[index.get(v, len(bins) - 1)] += 1
    return h / max(h.sum(), 1)


def total_variation(p: np.ndarray, q: np.ndarray) -> float:
    """Total variation distance between two histograms (0 = same, 1 = disjoint)."""
    return float(0.5 * np.abs(p - q).sum())
