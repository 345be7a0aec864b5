"""ONE training loop for every task.

A task hands over its model, a function that yields the batches of an epoch and a
function that scores the model on validation data; the loop does the rest the same
way for all of them: a fixed seed, Adam with a cosine learning-rate decay driven by
whichever runs out first (steps or the wall-clock budget), gradient clipping,
periodic validation with early stopping that keeps the best weights, a progress
callback (for the CLI and the UI's live curve) and a stop flag (the UI's Stop).
"""
from __future__ import annotations

import copy
import math
import random
import threading
import time
from dataclasses import asdict, dataclass, field, is_dataclass
from typing import Callable, Iterable

import numpy as np
import torch

from .metrics import Metric
from .runtime import Runtime, evaluating, to_device


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
    stopped: str = "completed"        # completed | early_stopping | time_budget | stopped
    tokens: int = 0                   # items processed, by every process (for throughput figures)
    eval_seconds: float = 0.0         # of ``elapsed``, the time spent validating
    runtime: dict = field(default_factory=dict)  # device, precision, world size (`Runtime.record`)


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
            holding ``metric.key``; the weights best by ``metric`` are kept.
        on_progress: called every ``cfg.log_every`` steps and after each validation.
        stop: when set (e.g. by the UI's Stop button) the loop ends after the step.
        count_tokens: batch -> number of items in it, for throughput.
        runtime: the device, precision and processes (`rnn_core.runtime`); None is
            one process on the CPU in float32. With several processes each trains
            on its shard of every batch, and only rank 0 validates and reports
            (``evaluate`` and ``on_progress`` are not called elsewhere).
    """
    rt = runtime or Runtime()
    seed_everything(cfg.seed)
    device = torch.device(rt.device)
    model.to(device)
    net = model
    if rt.distributed:  # averages the gradients of the ranks during backward()
        from torch.nn.parallel import DistributedDataParallel
        net = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    scaler = rt.grad_scaler()
    if cfg.optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=0.9, weight_decay=cfg.weight_decay)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    total = max(1, cfg.epochs * steps_per_epoch)
    budget = cfg.max_minutes * 60 if cfg.max_minutes else None
    eval_every = cfg.eval_every or steps_per_epoch
    best, best_state, bad_evals = None, None, 0
    result = TrainResult(best={}, runtime=rt.record())
    t0, step, running, reason = time.perf_counter(), 0, None, "completed"
    grad_norms: list[float] = []  # since the last report
    shared_fraction = 0.0  # the run's progress as rank 0 measured it (the learning rate's clock)

    def fraction() -> float:
        f = step / total
        if budget:
            f = max(f, (time.perf_counter() - t0) / budget)
        return min(1.0, f)

    def report(epoch, val=None, message=""):
        if on_progress and rt.is_main:
            on_progress(Progress(step, total, epoch, fraction(), time.perf_counter() - t0,
                                 running if running is not None else float("nan"),
                                 opt.param_groups[0]["lr"], val, message, grad_norms[:]))
        grad_norms.clear()

    # The average of recent weights is often better than the last ones (Polyak
    # averaging); torch's AveragedModel keeps it, buffers included.
    averaged = None
    if cfg.ema:
        from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
        averaged = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(cfg.ema), use_buffers=True)

    def validate(epoch):
        nonlocal best, best_state, bad_evals
        scored = averaged.module if averaged is not None else model
        started = time.perf_counter()
        with evaluating(scored):
            val = evaluate(scored)
        result.eval_seconds += time.perf_counter() - started
        entry = {"step": step, "epoch": epoch, "train_loss": running,
                 "elapsed": time.perf_counter() - t0, **val}
        result.history.append(entry)
        improved = best is None or metric.better(val[metric.key], best[metric.key])
        if improved:
            best, best_state, bad_evals = dict(val), copy.deepcopy(scored.state_dict()), 0
        else:
            bad_evals += 1
        report(epoch, val)
        return improved

    model.train()
    for epoch in range(cfg.epochs):
        for batch in epoch_batches(epoch):
            batch = rt.shard(batch)
            if not batch["x"].size(0):
                continue  # a batch of fewer rows than processes: none for this rank, so for none
            # Cosine decay over the run's progress (steps or time): a run cut by its
            # budget still ends on a small learning rate, which matters for short runs.
            for g in opt.param_groups:
                g["lr"] = cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5
                                    * (1 + math.cos(math.pi * shared_fraction)))
            loss, norm = _step(net, model, opt, scaler, rt, to_device(batch, device), cfg.clip)
            grad_norms.append(norm)
            if averaged is not None:
                averaged.update_parameters(model)
            step += 1
            if count_tokens:
                result.tokens += count_tokens(batch)
            lv = rt.mean(loss)  # the whole batch's loss, not this rank's share
            running = lv if running is None else 0.95 * running + 0.05 * lv
            if step % cfg.log_every == 0:
                report(epoch)
            if rt.is_main:
                if stop is not None and stop.is_set():
                    reason = "stopped"
                elif budget and time.perf_counter() - t0 >= budget:
                    reason = "time_budget"
                elif step % eval_every == 0 and not validate(epoch) and cfg.patience and bad_evals >= cfg.patience:
                    reason = "early_stopping"
            # rank 0's clock and verdict hold for every rank: same learning rate, same last step
            code, shared_fraction = rt.agree([STOP_REASONS.index(reason), fraction()])
            reason = STOP_REASONS[int(code)]
            if reason != "completed":
                break
        if reason != "completed":
            break
    if rt.is_main and (not result.history or result.history[-1]["step"] != step):
        validate(epoch)  # always score the final weights too
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval().cpu()  # checkpoints and predictors hold CPU tensors, whatever trained them
    result.best, result.steps, result.stopped = best or {}, step, reason
    result.tokens = int(rt.sum(result.tokens))
    result.elapsed = time.perf_counter() - t0
    report(epoch, result.best, message=reason)
    return result


STOP_REASONS = ("completed", "stopped", "time_budget", "early_stopping")


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
    model): the recipe (``options``), the loop's config, the data and the result.

    Args:
        recipe: the task's recipe (a dataclass) or a dict of its values.
        data: one sentence on what it trained and validated on.
        more: further figures for ``result`` (bits per character, say).
    """
    return {"options": asdict(recipe) if is_dataclass(recipe) else dict(recipe), "train": asdict(cfg),
            "runtime": result.runtime, "data": data,
            "result": {"best": result.best, **more, "steps": result.steps, "items_seen": result.tokens,
                       "stopped": result.stopped, "minutes": round(result.elapsed / 60, 2)}}
