"""The task contract: what every gallery task gives the rest of the code.

A task is a folder ``rnn_core/tasks/<name>/`` whose ``__init__`` defines ``SPEC``, a
`TaskSpec`. The CLI (its flags and splits), the tabs (retrain panel, model loading),
the training process, the benchmarks and the report read a task only through it, so
a new task is a new folder and one line in `rnn_core.tasks.TASK_NAMES`.
"""
from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field
from typing import Callable

from ..metrics import Metric
from ..options import Option, clamp_options


def make_recipe(recipe: type, options: dict | None = None):
    """``recipe`` (a dataclass) with ``options`` (field name -> value) over its
    defaults; a recipe instance passes through.

    Raises:
        ValueError: a name that is not a field of the recipe.
    """
    if isinstance(options, recipe):
        return options
    names = {f.name for f in dataclasses.fields(recipe)}
    unknown = sorted(set(options or {}) - names)
    if unknown:
        raise ValueError(f"{recipe.__name__} has no setting {', '.join(unknown)}; "
                         f"its settings: {', '.join(sorted(names))}")
    return recipe(**(options or {}))


@dataclass(frozen=True)
class ApiExample:
    """One typical request to the task's tab through its API (load tests, warm-up).

    ``args(rng)`` gives the endpoint's arguments; a `pathlib.Path` among them is a
    file to upload (the caller wraps it for its client)."""
    api_name: str
    args: Callable[[random.Random], tuple]


@dataclass(frozen=True)
class TaskSpec:
    """Everything the gallery needs to know about one task.

    Attributes:
        data_source: its data set's key in `rnn_core.data.SOURCES`.
        recipe: a dataclass of the training recipe; its defaults are the shipped
            model's, its fields (with their types) are ``train``'s CLI flags.
        predictor: the `rnn_core.predictor.Predictor` subclass that serves it; its
            ``task`` is the task's `name`.
        train: ``(options, data_dir, out_dir, on_progress, stop, runtime, max_steps)
            -> (predictor, TrainResult)``; ``options`` overrides recipe fields by name;
            ``runtime`` (`rnn_core.runtime.Runtime`) says on which device, in which
            precision and in how many processes (None: one, on the CPU);
            ``max_steps`` ends the run after that many optimiser steps (None: the
            recipe's epochs and budget decide). Every task's goes through
            `rnn_core.fit`, so each honours all of them the same way.
        evaluate: ``(weights, data_dir, split, device) -> metrics dict`` (metrics.json).
        bench: ``(weights, repeats, data_dir) -> figures``: a visitor's latency
            (``bench latency TASK``), printed as it goes; training throughput is
            measured the same way for every task (``bench throughput TASK``).
        metric: what validation measures while training (the best weights are kept).
        quality: the headline figure of ``evaluate``; ``metrics["baseline"]`` holds the
            baseline's figure under the same key.
        splits: the splits ``evaluate`` scores, the CLI's default first.
        retrain_bounds: what a visitor may set in the retrain panel, with bounds.
        retrain_fixed: recipe values every visitor's retrain uses (a short run on a
            server's CPU is not the shipped recipe).
        api: the tab's typical request.
        items: what training counts as it goes (``TrainResult.tokens``: "tokens",
            "characters"...), for throughput figures.
        suites: ``evaluate --suite NAME``: a table of some of ``evaluate``'s figures
            (``metrics dict -> text``), e.g. sentiment's behavioural suite.
        more_sources: further data sets training or evaluation reads (keys of
            `rnn_core.data.SOURCES`); ``download TASK`` fetches them too.
        companions: ``(weights, data_dir) -> [paths]``: files ``evaluate
            --write-metrics`` writes beside metrics.json (sentiment: the bag-of-words
            baseline whose figures metrics.json reports, the tab's second opinion).
        presets: named recipes, ``name -> recipe fields over the defaults``
            (``train TASK --preset NAME``; flags given override them). Every task has
            ``tiny`` (seconds on one core: the tests' and a quick try's), ``default``
            (``{}``: the shipped recipe) and ``large`` (for a GPU).
    """
    data_source: str
    recipe: type
    predictor: type
    train: Callable
    evaluate: Callable
    bench: Callable
    metric: Metric
    quality: Metric
    splits: tuple[str, ...]
    retrain_bounds: dict[str, Option]
    api: ApiExample
    items: str
    retrain_fixed: dict = field(default_factory=dict)
    suites: dict[str, Callable[[dict], str]] = field(default_factory=dict)
    more_sources: tuple[str, ...] = ()
    companions: Callable | None = None
    presets: dict[str, dict] = field(default_factory=lambda: {"default": {}})

    @property
    def name(self) -> str:
        """The task's name: its folder, CLI argument, assets/<name> and API prefix."""
        return self.predictor.task

    def retrain_options(self, values: dict) -> tuple[dict, list[str]]:
        """A visitor's retrain settings clamped to `retrain_bounds`, plus
        `retrain_fixed`; returns (options for ``train``, notes on what was changed)."""
        options, notes = clamp_options(values, self.retrain_bounds)
        return {**options, **self.retrain_fixed}, notes
