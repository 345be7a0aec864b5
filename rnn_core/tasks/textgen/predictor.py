"""The text generator behind the tab: priming, streaming generation, and a look inside
(the probability of each character, the top guesses, hidden-unit activations)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch

from ...decoding import sample
from ...encoders.text import CharEncoder
from ...options import Option
from ...predictor import Predictor
from ...serving import SharedSteps

MAX_PRIME = 2000      # characters of prime (or pasted text) the network reads


@dataclass
class Step:
    """One generated character and what the network showed while choosing it."""
    char: str
    prob: float                       # the model's probability of it (before filtering)
    top: list[tuple[str, float]]      # its five most likely candidates
    hidden: np.ndarray                # top-layer hidden state after reading it (H,)


class TextGenerator(Predictor):
    """A loaded character language model."""

    task, encoder_class = "textgen", CharEncoder
    generation_options = {
        "length": Option(400, 1, 2000),
        "temperature": Option(0.8, 0.05, 3.0),
        "top_k": Option(0, 0, 200),
        "top_p": Option(1.0, 0.05, 1.0),
        "seed": Option(0, 0, 2**31 - 1),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._steps = SharedSteps(self.model)  # one step for every stream generating at once

    def prepare(self, prime: str | None) -> tuple[str, list[str]]:
        """The prime as the network will read it, and notes on what was changed."""
        notes = []
        prime = prime or ""
        if len(prime) > MAX_PRIME:
            notes.append(f"The prime was cut to its last {MAX_PRIME} characters.")
            prime = prime[-MAX_PRIME:]
        prime, dropped = self.encoder.clean(prime)
        if dropped:
            shown = " ".join(repr(c) for c in dropped[:10])
            notes.append(f"{len(dropped)} character(s) the model has never seen were dropped: {shown}"
                         f"{' ...' if len(dropped) > 10 else ''}.")
        if not prime:
            prime = "\n"
            notes.append("Empty prime: starting from a new line.")
        return prime, notes

    def _top(self, probs: torch.Tensor, k: int = 5) -> list[tuple[str, float]]:
        p, i = torch.topk(probs, min(k, probs.numel()))
        return [(self.encoder.chars[j], float(q)) for q, j in zip(p.tolist(), i.tolist())]

    def generate(self, prime: str, length: int, temperature: float = 0.8, top_k: int = 0,
                 top_p: float = 1.0, seed: int = 0) -> Iterator[Step]:
        """Yield ``length`` characters one at a time after reading ``prime`` (already
        `prepare`d). The same seed and settings give the same text. The steps are
        shared with every other text being generated meanwhile (`SharedSteps`)."""
        gen = torch.Generator().manual_seed(int(seed))
        ids = torch.tensor([self.encoder.encode(prime)], dtype=torch.long)
        with torch.no_grad():
            (logits, state, _), _ = self.model(ids)

        def draw(logits: torch.Tensor) -> int:
            return sample(logits, gen, temperature, top_k, top_p)[0]
        with self._steps.stream(logits[0, -1], state, draw, length) as steps:
            for token, prob, top_ids, top_probs, hidden in steps:
                yield Step(self.encoder.chars[token], prob,
                           [(self.encoder.chars[j], q) for j, q in zip(top_ids, top_probs)], hidden)

    def analyse(self, text: str) -> dict:
        """Read ``text`` (after a new line) in one pass.

        Returns:
            {"chars": the characters read, "probs": the probability the model gave each
            one, "guesses": the top-5 next characters after each, "hidden": (T, H)
            top-layer activations after each}
        """
        ids = self.encoder.encode("\n" + text)
        x = torch.tensor([ids], dtype=torch.long)
        with torch.no_grad():
            (logits, _, out), _ = self.model(x)
        probs = torch.softmax(logits[0], -1)
        chars = [self.encoder.chars[i] for i in ids[1:]]
        return {"chars": chars,
                "probs": [float(probs[t, ids[t + 1]]) for t in range(len(chars))],
                "guesses": [self._top(probs[t + 1]) for t in range(len(chars) - 1)] + [self._top(probs[-1])],
                "hidden": out[0, 1:].numpy()}


# Features a hidden unit may track, for the "suggest interesting units" button.
FEATURES = {
    "line start": lambda text, i: i == 0 or text[i - 1] == "\n",
    "inside a speaker's name": lambda text, i: _speaker_line(text, i),
    "punctuation": lambda text, i: text[i] in ",.;:!?'-",
    "capital letters": lambda text, i: text[i].isupper(),
    "spaces between words": lambda text, i: text[i] == " ",
    "vowels": lambda text, i: text[i].lower() in "aeiou",
}


def _speaker_line(text: str, i: int) -> bool:
    start = text.rfind("\n", 0, i) + 1
    end = text.find("\n", i)
    line = text[start:end if end >= 0 else len(text)]
    return line.endswith(":") and line[:-1].replace(" ", "").isalpha() and len(line) < 30


def suggest_units(chars: list[str], hidden: np.ndarray) -> list[tuple[int, str, float]]:
    """For each feature, the hidden unit whose activation correlates with it most.

    Returns:
        [(unit, feature, correlation)], strongest first; features absent from the
        text (or constant) are skipped.
    """
    text = "".join(chars)
    z = (hidden - hidden.mean(0)) / (hidden.std(0) + 1e-6)
    out = []
    for name, test in FEATURES.items():
        f = np.array([test(text, i) for i in range(len(text))], dtype=float)
        if f.std() == 0:
            continue
        corr = (z * ((f - f.mean()) / f.std())[:, None]).mean(0)
        unit = int(np.abs(corr).argmax())
        out.append((unit, name, float(corr[unit])))
    return sorted(out, key=lambda u: -abs(u[2]))
