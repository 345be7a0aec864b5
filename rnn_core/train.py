"""ONE training loop for every task.

A task hands over its model, a function that yields the batches of an epoch and a
function that scores the model on validation data; the loop does the rest the same
way for all of them: a fixed seed, Adam with a cosine learning-rate decay driven by
whichever runs out first (steps or the wall-clock budget: `rnn_core.schedule`),
gradient clipping, periodic validation with early stopping that keeps the best
weights (`rnn_core.stopping`), a progress callback (for the CLI and the UI's live
curve), a stop flag (the UI's Stop) and a step limit. How a task's recipe becomes
such a call is `rnn_core.fit`.
"""
from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field, is_dataclass
from typing import Callable, Iterable

import numpy as np
import torch

from .metrics import Metric
from .runtime import Runtime, evaluating, to_device
from .schedule import Schedule
from .stopping import STOP_REASONS, EarlyStopping, StopReason


@dataclass
class TrainConfig:
    """How long and how hard to train; every field can be set from the CLI or UI."""
    epochs: int = 10
    lr: float = 2e-3
    weight_decay: float = 0.0
    clip: float = 1.0                 # max gradient norm
    max_minutes: float | None = None  # wall-clock budget; None = no limit
    eval_every: int | None = None     # steps between validations; None = once an epoch
    patience: int | None = 4          # validations without improvement before stopping
    min_lr_ratio: float = 0.05        # final learning rate as a share of lr
    seed: int = 0
    log_every: int = 20               # steps between progress reports
    ema: float | None = None          # decay of an exponential moving average of the
                                      # weights, validated and kept instead of the raw ones
    optimizer: str = "adam"           # or "sgd" (momentum 0.9): its steps scale with the
                                      # gradient, as in the gradient lab's exploding demo
    max_steps: int | None = None      # stop after this many optimiser steps (None: no limit);
                                      # the learning rate then decays over them


@dataclass
class Progress:
    """One report from the loop, sent to the ``on_progress`` callback."""
    step: int
    total_steps: int
    epoch: int
    fraction: float                   # 0..1 of the run (steps or time, whichever is further)
    elapsed: float
    train_loss: float
    lr: float
    val: dict | None = None           # metrics, only on reports that follow a validation
    message: str = ""
    grad_norms: list[float] = field(default_factory=list)  # global gradient norm (before
                                      # clipping) of every step since the previous report


@dataclass
class TrainResult:
    """What a run produced: the best validation metrics and the full history."""
    best: dict
    history: list[dict] = field(default_factory=list)
    steps: int = 0
    elapsed: float = 0.0
    stopped: StopReason = StopReason.COMPLETED
    tokens: int = 0                   # items processed, by every process (for throughput figures)
    eval_seconds: float = 0.0         # of ``elapsed``, the time spent validating
    runtime: dict = field(default_factory=dict)  # device, precision, world size, torch version


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch so the same seed gives the same run."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def train(model: torch.nn.Module,
          epoch_batches: Callable[[int], Iterable[dict]],
          steps_per_epoch: int,
          evaluate: Callable[[torch.nn.Module], dict],
          cfg: TrainConfig,
          metric: Metric = Metric("accuracy", "accuracy", higher_is_better=True),
          on_progress: Callable[[Progress], None] | None = None,
          stop: threading.Event | None = None,
          count_tokens: Callable[[dict], int] | None = None,
          runtime: Runtime | None = None) -> TrainResult:
    """Train ``model`` in place and leave the best validated weights in it, on the CPU.

    Args:
        epoch_batches: ``epoch -> iterable of batches``; each batch is a dict of
            keyword arguments for ``model(**batch)``, which returns ``(output, loss)``.
        steps_per_epoch: number of batches an epoch yields (for the schedule).
        evaluate: scores the model (already in eval mode, no grad) -> metrics dict
            holding ``metric.key``; the weights best by ``metric`` are kept. The final
            weights are always scored too, however the run ends.
        on_progress: called every ``cfg.log_every`` steps and after each validation;
            the last report's ``message`` is the `StopReason`.
        stop: when set (e.g. by the UI's Stop button) the loop ends after the step.
        count_tokens: batch -> number of items in it, for throughput.
        runtime: the device, precision and processes (`rnn_core.runtime`); None is
            one process on the CPU in float32. With several processes each trains
            on its shard of every batch, and only rank 0 validates and reports
            (``evaluate`` and ``on_progress`` are not called elsewhere).
    """
    rt = runtime or Runtime()
    seed_everything(cfg.seed)
    loop = _Loop(model, steps_per_epoch, evaluate, cfg, metric, on_progress, rt)
    model.train()
    reason, epoch = StopReason.COMPLETED, 0
    for epoch in range(cfg.epochs):
        for batch in epoch_batches(epoch):
            if batch["x"].size(0) < rt.world_size:
                # Some rank would get no row of it. Every rank must skip it (decided on the
                # whole batch, not on a shard), or one rank's collectives would pair with
                # the next step's of another: gloo aborts ("collective mismatch").
                continue
            loop.step(rt.shard(batch), epoch, count_tokens)
            reason = loop.verdict(epoch, stop)
            if reason != StopReason.COMPLETED:
                break
        if reason != StopReason.COMPLETED:
            break
    return loop.finish(epoch, reason)


class _Loop:
    """One run's state between steps: the optimiser, the clock, the best weights so
    far, the running loss and the reports (`train` drives it)."""

    def __init__(self, model, steps_per_epoch, evaluate, cfg: TrainConfig, metric: Metric, on_progress,
                 rt: Runtime):
        self.model, self.evaluate, self.cfg, self.on_progress, self.rt = model, evaluate, cfg, on_progress, rt
        self.device = torch.device(rt.device)
        model.to(self.device)
        self.net = model
        if rt.distributed:  # averages the gradients of the ranks during backward()
            from torch.nn.parallel import DistributedDataParallel
            self.net = DistributedDataParallel(model, device_ids=[self.device.index]
                                               if self.device.type == "cuda" else None)
        self.scaler = rt.grad_scaler()
        if cfg.optimizer == "sgd":
            self.opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=0.9, weight_decay=cfg.weight_decay)
        else:
            self.opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        total = cfg.epochs * steps_per_epoch
        self.schedule = Schedule(cfg.lr, cfg.min_lr_ratio, min(total, cfg.max_steps or total),
                                 cfg.max_minutes * 60 if cfg.max_minutes else None)
        self.eval_every = cfg.eval_every or steps_per_epoch
        self.tracker = EarlyStopping(metric, cfg.patience)
        self.result = TrainResult(best={}, runtime={**rt.record(), "torch": torch.__version__})
        self.steps, self.running, self.grad_norms = 0, None, []  # grad norms: since the last report
        self.shared_fraction = 0.0  # the run's progress as rank 0 measured it (the learning rate's clock)
        # The average of recent weights is often better than the last ones (Polyak
        # averaging); torch's AveragedModel keeps it, buffers included.
        self.averaged = None
        if cfg.ema:
            from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
            self.averaged = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(cfg.ema), use_buffers=True)

    def step(self, batch: dict, epoch: int, count_tokens) -> None:
        """One optimiser step on this rank's ``batch`` at the schedule's learning rate."""
        for g in self.opt.param_groups:
            g["lr"] = self.schedule.lr(self.shared_fraction)
        loss, norm = _step(self.net, self.model, self.opt, self.scaler, self.rt,
                           to_device(batch, self.device), self.cfg.clip)
        self.grad_norms.append(norm)
        if self.averaged is not None:
            self.averaged.update_parameters(self.model)
        self.steps += 1
        if count_tokens:
            self.result.tokens += count_tokens(batch)
        lv = self.rt.mean(loss)  # the whole batch's loss, not this rank's share
        self.running = lv if self.running is None else 0.95 * self.running + 0.05 * lv
        if self.steps % self.cfg.log_every == 0:
            self.report(epoch)

    def verdict(self, epoch: int, stop) -> StopReason:
        """Whether the run ends after this step (validating when it is time). Rank 0
        decides, and its clock and verdict hold for every rank: the same learning
        rate, the same last step."""
        reason = StopReason.COMPLETED
        if self.rt.is_main:
            if stop is not None and stop.is_set():
                reason = StopReason.STOPPED
            elif self.schedule.out_of_time():
                reason = StopReason.TIME_BUDGET
            elif self.cfg.max_steps and self.steps >= self.cfg.max_steps:
                reason = StopReason.MAX_STEPS
            elif self.steps % self.eval_every == 0:
                self.validate(epoch)
                if self.tracker.exhausted:
                    reason = StopReason.EARLY_STOPPING
        code, self.shared_fraction = self.rt.agree([STOP_REASONS.index(reason), self.schedule.fraction(self.steps)])
        return STOP_REASONS[int(code)]

    def validate(self, epoch: int) -> None:
        """Score the weights (their average, with ``ema``), log it, keep them if best."""
        scored = self.averaged.module if self.averaged is not None else self.model
        started = self.schedule.elapsed()
        with evaluating(scored):
            val = self.evaluate(scored)
        self.result.eval_seconds += self.schedule.elapsed() - started
        self.result.history.append({"step": self.steps, "epoch": epoch, "train_loss": self.running,
                                    "elapsed": self.schedule.elapsed(), **val})
        self.tracker.update(val, scored)
        self.report(epoch, val)

    def report(self, epoch: int, val: dict | None = None, message: str = "") -> None:
        """Send a `Progress` (rank 0 only) with the gradient norms since the last one."""
        if self.on_progress and self.rt.is_main:
            self.on_progress(Progress(self.steps, self.schedule.total_steps, epoch,
                                      self.schedule.fraction(self.steps), self.schedule.elapsed(),
                                      self.running if self.running is not None else float("nan"),
                                      self.opt.param_groups[0]["lr"], val, message, self.grad_norms[:]))
        self.grad_norms.clear()

    def finish(self, epoch: int, reason: StopReason) -> TrainResult:
        """Score the final weights (unless just scored), put the best ones in the
        model, on the CPU, and say how the run went."""
        if self.rt.is_main and (not self.result.history or self.result.history[-1]["step"] != self.steps):
            self.validate(epoch)
        if self.tracker.state is not None:
            self.model.load_state_dict(self.tracker.state)
        self.model.eval().cpu()  # checkpoints and predictors hold CPU tensors, whatever trained them
        result = self.result
        result.best, result.steps, result.stopped = self.tracker.best or {}, self.steps, reason
        result.tokens = int(self.rt.sum(result.tokens))
        result.elapsed = self.schedule.elapsed()
        self.report(epoch, result.best, message=reason.value)
        return result


def _step(net, model, opt, scaler, rt: Runtime, batch: dict, clip: float | None) -> tuple[float, float]:
    """One optimiser step on ``batch`` (forward in the run's precision); returns the
    loss and the global gradient norm before clipping (what the gradient lab plots).
    ``net`` is ``model`` itself or its DistributedDataParallel wrapper."""
    with rt.autocast():
        _, loss = net(**batch)
    opt.zero_grad(set_to_none=True)
    if scaler is None:
        loss.backward()
    else:  # fp16: scale the loss so small gradients survive, unscale before clipping
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
    if clip:
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    else:
        norm = torch.nn.utils.get_total_norm([p.grad for p in model.parameters() if p.grad is not None])
    if scaler is None:
        opt.step()
    else:
        scaler.step(opt)
        scaler.update()
    return float(loss.detach()), float(norm)


def run_record(recipe, cfg: TrainConfig, result: TrainResult, data: str, **more) -> dict:
    """What a checkpoint's config.json says of the run that made it (besides the
    model): the recipe (``options``), the loop's config, the data and the result,
    which says where it ran (``runtime``: `trained_runtime` reads it back).

    Args:
        recipe: the task's recipe (a dataclass) or a dict of its values.
        data: one sentence on what it trained and validated on.
        more: further figures for ``result`` (bits per character, say); a ``best``
            among them replaces the loop's (e.g. without a live sample).
    """
    return {"options": asdict(recipe) if is_dataclass(recipe) else dict(recipe), "train": asdict(cfg),
            "data": data,
            "result": {"best": result.best, **more, "steps": result.steps, "items_seen": result.tokens,
                       "stopped": StopReason(result.stopped).value, "minutes": round(result.elapsed / 60, 2),
                       "runtime": result.runtime}}


def trained_runtime(config: dict) -> dict:
    """Where a checkpoint was trained, from its config.json: device, precision, world
    size, torch version ({} when it does not say; files written before the runtime
    moved into ``result`` kept it at the top level, without the torch version)."""
    return config.get("result", {}).get("runtime") or config.get("runtime") or {}
