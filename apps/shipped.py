"""The shipped models as the tabs use them: loaded once, on first use; a missing one
becomes a message, not a dead tab; and the visitor's choice between it and their
own retrained model."""
from __future__ import annotations

import functools

import gradio as gr

from rnn_core.checkpoint import CheckpointError
from rnn_core.summary import summary_table_md
from rnn_core.tasks.spec import TaskSpec

from .refusal import Refusal


def card_of(pretrained, *, summary: bool = True):
    """Decorator for a tab's model card: ``make(predictor) -> Markdown`` becomes
    ``card() -> Markdown`` for the shipped model, followed by its collapsed
    `summary_section`, or the loader's message when it is missing (so a tab without
    weights still builds). ``summary=False`` for other text about the shipped model
    (a line under the tab, a table of its figures), which has no summary of its own."""
    def wrap(make):
        @functools.wraps(make)
        def card() -> str:
            try:
                predictor = pretrained()
            except gr.Error as e:
                return str(e)
            text = make(predictor)
            return f"{text}\n\n{summary_section(predictor)}" if summary else text
        return card
    return wrap


def summary_section(predictor) -> str:
    """The model card's collapsed "Model summary": every layer, its output shape and
    parameters, and the totals, read off the network itself (`Predictor.summary`)."""
    # the blank lines let the Markdown table inside the HTML block render as a table
    return ("<details><summary>Model summary (layers, shapes, parameters)</summary>\n\n"
            f"{summary_table_md(predictor.summary())}\n\n</details>")


MODEL_CHOICES = ("pretrained", "my retrained model")


def pick_model(which: str, retrained, pretrained):
    """The model a visitor picked: their retrained one (a message if there is none
    yet) or the shipped one (``pretrained``, a `shipped_model` loader)."""
    if which == MODEL_CHOICES[1]:
        if retrained is None:
            raise Refusal("You have no retrained model yet: open 'Retrain it yourself' below, or pick 'pretrained'.")
        return retrained
    return pretrained()


def shipped_model(spec: TaskSpec):
    """A loader for ``spec``'s shipped model: loaded once, on first use; a missing or
    broken checkpoint becomes a message in the UI, not a dead tab. Keyword arguments
    go to ``from_pretrained`` (forecasting ships one model per series:
    ``loader(series="pm25")``), each choice loaded once.
    ``loader.cache_clear()`` forgets them (tests point the assets elsewhere)."""
    @functools.lru_cache(maxsize=8)
    def load(**choice):
        return spec.predictor.from_pretrained(**choice)

    def loader(**choice):
        try:
            return load(**choice)
        except CheckpointError as e:
            flags = "".join(f" --{k} {v}" for k, v in choice.items())
            raise Refusal(f"The pretrained {spec.name} model is missing ({e}); train one with "
                           f"`python -m rnn_core train {spec.name}{flags}`.") from None

    loader.cache_clear = load.cache_clear
    return loader
