"""English -> French for the tab and the CLI: the best translation with its attention,
the beam's alternatives with their scores, and plain notes on what the model could
not read."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import torch

from ...encoders.bilingual import UNK, PairEncoder, detokenize, is_word, words
from ...options import Option
from ...predictor import Predictor
from .search import Hypothesis, beam_search, specials

MAX_CHARS = 2000        # what is read of a visitor's text
MAX_WORDS = 60          # tokens translated; longer input is cut, with a note
TRAINED_WORDS = 40      # the longest sentences training kept (`data.MAX_TOKENS`)
_TAG = re.compile(r"<[^>]{0,200}>")


class TranslationInputError(ValueError):
    """Nothing a translator can read (one sentence, for the visitor)."""


@dataclass
class Translation:
    """A translation and what it is made of.

    Attributes:
        text: the French.
        source: the English tokens read (after cleaning and cutting), then ``</s>``.
        words: the French tokens (with capitals), one per row of ``attention``.
        attention: (len(words) + 1, len(source)) weights, the last row for ``</s>``;
            None for the model without attention.
        confidence: geometric mean of the chosen tokens' probabilities (0..1).
        alternatives: (French, length-normalised score, confidence) of each beam
            hypothesis, best first (the first is ``text``).
        unknown: source words the model has never seen.
        notes: one-line notes for the visitor (cut input, unknown words, HTML...).
    """
    text: str
    source: list[str]
    words: list[str]
    attention: torch.Tensor | None
    confidence: float
    alternatives: list[tuple[str, float, float]]
    unknown: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class Translator(Predictor):
    """A trained `rnn_core.models.Seq2Seq` and its `PairEncoder`."""

    task = "translation"
    encoder_class = PairEncoder
    generation_options = {"beam": Option(5, 1, 10), "alpha": Option(0.6, 0.0, 2.0)}

    def clean(self, text: str) -> tuple[list[str], list[str]]:
        """The tokens to translate, and notes on what was changed to get them.

        Raises:
            TranslationInputError: no words at all.
        """
        notes = []
        text = (text or "")[:MAX_CHARS + 1]
        if len(text) > MAX_CHARS:
            text, notes = text[:MAX_CHARS], [f"Only the first {MAX_CHARS:,} characters were read."]
        if _TAG.search(text):
            text = _TAG.sub(" ", text)
            notes.append("HTML tags were removed; only the text between them was translated.")
        tokens = words(text)
        if not any(map(is_word, tokens)):
            raise TranslationInputError("Please type an English sentence: there are no words to translate.")
        if len(tokens) > MAX_WORDS:
            tokens = tokens[:MAX_WORDS]
            notes.append(f"Only the first {MAX_WORDS} words were translated (best effort: the model "
                         f"learnt from sentences of up to {TRAINED_WORDS}).")
        elif len(tokens) > TRAINED_WORDS:
            notes.append(f"This is longer than any sentence the model learnt from ({TRAINED_WORDS} words): "
                         "a best effort, expect mistakes.")
        return tokens, notes

    def translate(self, text: str, beam: int = 5, alpha: float = 0.6) -> Translation:
        """Translate one English text (beam search of width ``beam``; 1 is greedy).

        Raises:
            TranslationInputError: no words to translate.
        """
        tokens, notes = self.clean(text)
        settings, changed = self.generation_settings({"beam": beam, "alpha": alpha})
        notes += changed
        enc: PairEncoder = self.encoder
        src = torch.tensor(enc.encode_tokens(tokens))
        bos, eos = specials(enc)
        hyps = beam_search(self.model, src, bos, eos, beam=int(settings["beam"]),
                           max_len=2 * len(tokens) + 10, alpha=settings["alpha"])
        unknown = enc.unknown(tokens)
        notes += self._unknown_notes(unknown, sum(map(is_word, tokens)))
        best = hyps[0]
        out = self._words(best, tokens)
        if not best.finished:
            notes.append("The translation did not end within its length limit; it is cut.")
        alternatives = [(detokenize(self._words(h, tokens)), round(h.score, 3), _confidence(h)) for h in hyps]
        return Translation(detokenize(out), tokens + ["</s>"], out, best.attention, _confidence(best),
                           alternatives, unknown, notes)

    def _words(self, hyp: Hypothesis, source: list[str]) -> list[str]:
        """French tokens of a hypothesis, capitals restored; each ``<unk>`` replaced by
        the source word it attended to most (Luong et al. 2015's unknown-word copy)."""
        toks = self.encoder.cased(self.encoder.tokens(hyp.ids))
        if hyp.attention is None:
            return toks
        # argmax over the source's words only: the last column is its </s>, not a word to copy
        return [source[int(hyp.attention[i, :len(source)].argmax())] if t == UNK and source else t
                for i, t in enumerate(toks)]

    @staticmethod
    def _unknown_notes(unknown: list[str], n_words: int) -> list[str]:
        if not unknown:
            return []
        shown = ", ".join(unknown[:6]) + (" ..." if len(unknown) > 6 else "")
        if len(unknown) > n_words / 2:
            return [f"{len(unknown)} of {n_words} words are unknown to the model ({shown}): is this English? "
                    "What follows is a best effort, not a translation to trust."]
        return [f"{len(unknown)} word{'s' if len(unknown) > 1 else ''} never seen in training ({shown}): the "
                "model reads each as one unknown word; an unknown word in its French is copied from the English."]

    def describe(self) -> str:
        """One line on the network."""
        a = self.model.model_args
        att = "no attention (one fixed vector)" if a["attention"] == "none" else f"{a['attention']} attention"
        return (f"bidirectional {a['cell'].upper()} encoder (2x{a['hidden_size']}), {a['cell'].upper()} decoder "
                f"({2 * a['hidden_size']}) with {att}, embeddings {a['embed_dim']}")


def _confidence(h: Hypothesis) -> float:
    """Geometric mean probability of a hypothesis's tokens (its ``</s>`` included)."""
    return round(math.exp(h.logprob / max(1, len(h.ids) + int(h.finished))), 3)
