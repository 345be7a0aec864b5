"""Timing helpers for ``python -m rnn_core bench`` (figures, not asserts), and the
benchmarks of the gallery as a server (`server`) and its report (`report`)."""
from __future__ import annotations

import time

import numpy as np
import torch


def time_calls(fn, repeats: int, warmup: int = 5) -> dict:
    """Call ``fn`` ``repeats`` times; return p50/p95/mean latency in milliseconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return {"p50_ms": float(np.percentile(times, 50)), "p95_ms": float(np.percentile(times, 95)),
            "mean_ms": float(np.mean(times)), "n": repeats}


def train_throughput(model: torch.nn.Module, batches: list[dict], count) -> float:
    """Items per second over optimiser steps on ``batches`` (the first is a warm-up)."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    total, t0 = 0, None
    for i, b in enumerate(batches):
        if i == 1:
            t0 = time.perf_counter()
        _, loss = model(**b)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if i >= 1:
            total += count(b)
    model.eval()
    return total / (time.perf_counter() - t0)


def describe_machine() -> str:
    import os
    return f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs"


def bench_task(spec, weights=None, repeats: int = 50, retrain: bool = False, data_dir: str | None = None) -> dict:
    """``python -m rnn_core bench TASK``: the task's own benchmark (`TaskSpec.bench`),
    and with ``retrain`` the retrain a visitor gets (`timed_retrain`) under "retrain"."""
    out = spec.bench(weights, repeats=repeats, data_dir=data_dir)
    if retrain:
        out["retrain"] = timed_retrain(spec, data_dir)
    return out


def timed_retrain(spec, data_dir: str | None = None) -> dict:
    """Run the retrain a visitor gets with the panel's defaults for ``spec``'s task,
    on this process's threads (the CLI's bench sets one, as the server's training
    process has); print and return its wall time (data loading included) and best
    validation figures."""
    options, _ = spec.retrain_options({})
    t = time.perf_counter()
    _, result = spec.train(options, data_dir=data_dir)
    out = {"seconds": time.perf_counter() - t,
           **{k: v for k, v in result.best.items() if isinstance(v, (int, float))}}
    print(f"retrain with the UI's defaults: {out['seconds']:.0f} s including data loading, "
          f"{spec.metric.label} {result.best[spec.metric.key]:.3f}")
    return out


def training_throughput(spec, runtime, seconds: float = 60, data_dir: str | None = None) -> dict:
    """Train ``spec``'s shipped recipe on its real data for ``seconds`` with
    ``runtime`` (device, precision, and the processes torchrun started) and print the
    items trained per second by all of them together, validation time left out (rank
    0 validates while the others wait). Nothing is saved."""
    _, result = spec.train({"max_minutes": seconds / 60}, data_dir=data_dir, runtime=runtime)
    training = max(result.elapsed - result.eval_seconds, 1e-9)
    out = {"task": spec.name, **runtime.record(), "steps": result.steps, "seconds": training,
           "validation_seconds": result.eval_seconds, f"{spec.items}_per_s": result.tokens / training}
    if runtime.is_main:
        print(f"{spec.name}, the shipped recipe on {runtime.world_size} x {out['device']} ({runtime.precision}, "
              f"{torch.get_num_threads()} intra-op thread(s) each): {out[f'{spec.items}_per_s']:,.0f} "
              f"{spec.items}/s over {result.steps} steps in {training:.0f} s "
              f"(+{result.eval_seconds:.0f} s validating, not counted)", flush=True)
    return out
