"""One way to train any task: from a recipe and options to a trained predictor.

A task says only what differs (a `Plan`: its encoder, how to make its network, the
batches of an epoch, how to score the network, what its record adds); `fit` does the
rest the same way for every task: the recipe from the options, the seed set just
before the network is made (the same seed, the same initial weights), the loop's
config from the recipe, the loop itself (`rnn_core.train.train`) with the runtime,
progress callback, stop flag and step limit, the run's record, and the predictor
around the best weights, saved when asked.

A task's ``train`` is then one call::

    def train(options=None, data_dir=None, out_dir=None, on_progress=None, stop=None,
              runtime=None, max_steps=None):
        return fit(Recipe, plan, MyPredictor, options, data_dir, out_dir, on_progress=on_progress,
                   stop=stop, runtime=runtime, max_steps=max_steps)

where ``plan(recipe, data_dir) -> Plan`` reads the data. A task that trains several
networks (sentiment's ensembles) calls `fit_model` once per network and `conclude` once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import torch

from .metrics import Metric
from .runtime import Runtime
from .tasks.spec import make_recipe
from .train import TrainConfig, TrainResult, run_record, train


@dataclass
class Plan:
    """What one task's training run needs besides the shared glue.

    Attributes:
        encoder: the predictor's encoder (saved with the weights).
        network: makes the untrained network the loop trains; called just after the
            recipe's seed is set.
        epoch_batches: ``epoch -> batches``, each a dict of ``network(**batch)``'s
            arguments.
        steps_per_epoch: how many batches an epoch yields.
        validate: scores the network (in eval mode, no grad) -> metrics holding
            ``metric.key``.
        metric: what ``validate`` measures; the best weights by it are kept.
        count: batch -> the items in it (`TaskSpec.items`), for throughput figures.
        data: one sentence on what it trained and validated on (config.json).
        loop: `TrainConfig` fields beyond the recipe's epochs, lr, max_minutes and seed
            (which every recipe has).
        saved: the trained network -> the one the predictor holds (e.g. the language
            model inside its truncated-BPTT wrapper).
        figures: (trained network, result) -> further figures for the record's
            ``result`` (`run_record`'s ``more``).
        extras: trained network -> further keys of the record, computed once it is
            trained (a calibration, test figures).
        save: `Predictor.trained`'s save options (``half``, ``int8_embeddings``).
    """
    encoder: Any
    network: Callable[[], torch.nn.Module]
    epoch_batches: Callable[[int], Iterable[dict]]
    steps_per_epoch: int
    validate: Callable[[torch.nn.Module], dict]
    metric: Metric
    count: Callable[[dict], int]
    data: str
    loop: dict = field(default_factory=dict)
    saved: Callable[[torch.nn.Module], torch.nn.Module] = lambda network: network
    figures: Callable[[torch.nn.Module, TrainResult], dict] = lambda network, result: {}
    extras: Callable[[torch.nn.Module], dict] = lambda network: {}
    save: dict = field(default_factory=dict)


def fit(recipe: type, plan: Callable[[Any, str | None], Plan], predictor: type, options: dict | None = None,
        data_dir: str | None = None, out_dir: str | Path | None = None, *, on_progress=None, stop=None,
        runtime: Runtime | None = None, max_steps: int | None = None) -> tuple[Any, TrainResult]:
    """Train one task's network: its recipe with ``options``, its ``plan`` for that
    recipe and data, the shared loop, then the predictor (saved to ``out_dir`` when given).

    Args:
        recipe: the task's recipe dataclass; ``options`` override its fields by name.
        plan: ``(recipe instance, data_dir) -> Plan``.
        predictor: the task's `rnn_core.predictor.Predictor` subclass.
        runtime: where it trains (`rnn_core.runtime.Runtime`; None: one CPU process).
        max_steps: stop after this many optimiser steps (None: the recipe decides).

    Returns:
        (the predictor around the best weights, the loop's `TrainResult`)
    """
    r = make_recipe(recipe, options)
    p = plan(r, data_dir)
    model, result, cfg = fit_model(p, r, on_progress=on_progress, stop=stop, runtime=runtime, max_steps=max_steps)
    return conclude(p, predictor, r, cfg, model, result, out_dir), result


def fit_model(plan: Plan, recipe, *, on_progress=None, stop=None, runtime: Runtime | None = None,
              max_steps: int | None = None) -> tuple[torch.nn.Module, TrainResult, TrainConfig]:
    """Make ``plan``'s network from ``recipe.seed`` and train it with the shared loop;
    returns (the network, with its best weights, on the CPU; the result; the loop's config)."""
    torch.manual_seed(recipe.seed)  # same seed -> same initial weights
    model = plan.network()
    cfg = TrainConfig(epochs=recipe.epochs, lr=recipe.lr, max_minutes=recipe.max_minutes, seed=recipe.seed,
                      max_steps=max_steps, **plan.loop)
    result = train(model, plan.epoch_batches, plan.steps_per_epoch, plan.validate, cfg, metric=plan.metric,
                   on_progress=on_progress, stop=stop, count_tokens=plan.count, runtime=runtime)
    return model, result, cfg


def conclude(plan: Plan, predictor: type, recipe, cfg: TrainConfig, model: torch.nn.Module,
             result: TrainResult, out_dir: str | Path | None = None):
    """The predictor around a trained ``model`` with the run's record
    (`rnn_core.train.run_record` plus the plan's figures and extras), saved to
    ``out_dir`` when given."""
    record = run_record(recipe, cfg, result, plan.data, **plan.figures(model, result))
    record.update(plan.extras(model))
    return predictor.trained(plan.saved(model), plan.encoder, record, out_dir, **plan.save)
