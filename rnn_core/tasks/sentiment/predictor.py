"""The sentiment predictor: a loaded checkpoint and everything the tab shows about
one sentence (label, confidence, the verdict after every word, word influence)."""
from __future__ import annotations

import math
from pathlib import Path

import torch

from ...baselines import TfidfBaseline
from ...batching import token_batch
from ...checkpoint import assets_dir
from ...encoders.text import WordEncoder, is_word, tokenize
from ...predictor import Predictor

MAX_WORDS = 200          # longer inputs are cut (with a note) to keep a prediction fast
LABELS = ("negative", "positive")
GUESS_BELOW = 1 / 3      # a verdict from fewer known words than this share of the words is a guess


class SentimentPredictor(Predictor):
    """A loaded sentiment model with everything the tab shows about one sentence."""

    task, encoder_class = "sentiment", WordEncoder
    bag_of_words: TfidfBaseline | None = None  # the baseline saved beside the weights, if any

    @classmethod
    def from_pretrained(cls, path=None):
        """Load a checkpoint folder, with the bag-of-words baseline saved beside it
        (`bag_of_words`) when there is one."""
        predictor = super().from_pretrained(path)
        folder = Path(path) if path else assets_dir(cls.task)
        predictor.bag_of_words = (TfidfBaseline.load(folder)
                                  if all((folder / f).exists() for f in TfidfBaseline.FILES) else None)
        return predictor

    def second_opinion(self, text: str) -> float | None:
        """P(positive) from the bag of words saved with this model (None: none saved):
        the same words with their order thrown away."""
        return None if self.bag_of_words is None else float(self.bag_of_words.p_positive([text])[0])

    def describe(self) -> str:
        """One line on the network, e.g. '1-layer bidirectional LSTM, hidden 256, embedding 256'."""
        args = self.model.model_args
        members = args.get("members", [args])
        kinds = []
        for a in members:
            bi = "bidirectional " if a.get("bidirectional", True) else ""
            kinds.append(f"{a.get('num_layers', 1)}-layer {bi}{a.get('cell', 'lstm').upper()}, "
                         f"hidden {a.get('hidden_size', 128)}, embedding {a.get('embed_dim', 128)}")
        if len(members) == 1:
            return kinds[0]
        same = len(set(kinds)) == 1
        return f"ensemble of {len(members)} networks: " + (f"{len(members)} x {kinds[0]}" if same else "; ".join(kinds))

    def _probs(self, seqs: list[list[int]], subs: list[list[list[int]]]) -> list[float]:
        """P(positive) for each id list, in one batched forward pass."""
        batch = token_batch(seqs, subwords=subs if self.encoder.subword_buckets else None)
        with torch.no_grad():
            logits, _ = self.model(**batch)
        return torch.softmax(logits, -1)[:, 1].tolist()

    def predict(self, text: str, explain: bool = True) -> dict:
        """Classify ``text``.

        Returns a dict with ``label``, ``confidence``, ``p_positive``, ``tokens``,
        ``words`` (how many tokens are words, not punctuation), ``unknown`` (the words
        never seen in training),
        ``notes`` (e.g. truncation, unknown words), ``guess`` (True when the model
        knew almost none of the words, see `GUESS_BELOW`: its verdict says nothing)
        and, when ``explain``:
        ``running`` (P(positive) after each word: the verdict as the network reads)
        and ``influence`` (per word, the log-odds of positive minus the log-odds with
        that word replaced by <unk>: occlusion; > 0 pushed towards positive. Log-odds,
        not probabilities: in a sentence the model is 99.9% sure of, every word moves
        P(positive) by less than 0.01, yet some words clearly matter more).

        Raises:
            ValueError: if the text holds no words at all.
        """
        tokens = tokenize(text)
        if not tokens:
            raise ValueError("Please type a sentence: there are no words to read.")
        notes = []
        if len(tokens) > MAX_WORDS:
            notes.append(f"Only the first {MAX_WORDS} of {len(tokens)} words were read.")
            tokens = tokens[:MAX_WORDS]
        ids = self.encoder.encode_tokens(tokens)
        subs = [self.encoder.subwords(t) for t in tokens]
        # Punctuation is not a word: every count and message below is over words only.
        words = [(t, i) for t, i in zip(tokens, ids) if is_word(t)]
        unknown = [t for t, i in words if i == 1]
        if unknown:
            shown = ", ".join(dict.fromkeys(unknown[:8]))
            notes.append(f"{len(unknown)} of {len(words)} words were never seen in training ({shown}"
                         f"{'...' if len(unknown) > 8 else ''}): the network reads each as the one "
                         "unknown-word token, which it learned to treat as neutral.")
        known = sum(i != 1 for _, i in words)
        guess = known == 0 or known < GUESS_BELOW * len(words)
        if not words:
            notes.append("There are no words here, only punctuation: the verdict is a guess.")
        elif known == 0:
            notes.append("The model knows none of these words, so its verdict is a guess.")
        elif guess:
            notes.append(f"The model knows only {known} of these {len(words)} words, so its verdict is "
                         "close to a guess.")
        seqs, sub_seqs = [ids], [subs]
        if explain:  # every prefix (running verdict), then every word occluded
            seqs += [ids[:k] for k in range(1, len(ids) + 1)]
            sub_seqs += [subs[:k] for k in range(1, len(ids) + 1)]
            seqs += [ids[:k] + [1] + ids[k + 1:] for k in range(len(ids))]
            sub_seqs += [subs[:k] + [[]] + subs[k + 1:] for k in range(len(ids))]
        p = self._probs(seqs, sub_seqs)
        out = {"tokens": tokens, "words": len(words), "unknown": unknown, "p_positive": p[0],
               "label": LABELS[int(p[0] >= 0.5)],
               "confidence": max(p[0], 1 - p[0]), "notes": notes, "guess": guess}
        if explain:
            n = len(ids)
            out["running"] = p[1:n + 1]
            out["influence"] = [_log_odds(p[0]) - _log_odds(q) for q in p[n + 1:]]
        return out


def _log_odds(p: float, eps: float = 1e-6) -> float:
    p = min(max(p, eps), 1 - eps)
    return math.log(p / (1 - p))


def model_card(predictor: SentimentPredictor) -> dict:
    """The figures the tab's model card shows (from config.json and metrics.json)."""
    m = predictor.metrics
    return {"model": predictor.describe(), "parameters": predictor.parameters,
            "data": predictor.config.get("data", "SST-2"),
            "dev_accuracy": m.get("accuracy", predictor.config.get("result", {}).get("best", {}).get("accuracy")),
            "baseline_accuracy": m.get("baseline", {}).get("accuracy"),
            "baseline": m.get("baseline", {}).get("name")}
