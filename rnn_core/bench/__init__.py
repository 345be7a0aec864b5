"""``python -m rnn_core bench``: one function per measurement of a task, figures not
asserts: `task_latency` (one visitor, in-process; `network_forward`, the network alone on
its head's `example_batch()`) and `train_throughput` (the shipped
recipe training on the real data). The gallery as a served app is measured in
`server`; `report` writes every figure to docs/benchmarks.md."""
from __future__ import annotations

import os
import time

import numpy as np
import torch

from ..runtime import Runtime


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


def describe_machine() -> str:
    """torch's version, its intra-op threads and the machine's CPUs, for a figure's caption."""
    return f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs"


def task_latency(spec, weights=None, repeats: int = 50, retrain: bool = False, data_dir: str | None = None) -> dict:
    """``bench latency TASK``: the task's own latency benchmark (`TaskSpec.bench`), and
    with ``retrain`` the retrain a visitor waits for (`timed_retrain`) under "retrain"."""
    out = spec.bench(weights, repeats=repeats, data_dir=data_dir)
    out["network_forward"] = network_forward(spec, weights, repeats)
    if retrain:
        out["retrain"] = timed_retrain(spec, data_dir)
    return out


def network_forward(spec, weights=None, repeats: int = 50) -> dict:
    """The shipped network alone on its head's ``example_batch()`` (one sequence, no
    pre- or post-processing): the share of a visitor's latency that is the network's."""
    from ..runtime import evaluating

    model = spec.predictor.from_pretrained(weights).model  # forecasting: its default series
    batch = model.example_batch(batch_size=1)
    batch.pop("targets", None)
    batch.pop("mask", None)
    with evaluating(model):
        figures = time_calls(lambda: model(**batch), repeats)
    print(f"the network alone, forward on its example batch ({tuple(batch['x'].shape)}): "
          f"p50 {figures['p50_ms']:.2f} ms, p95 {figures['p95_ms']:.2f} ms")
    return figures


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


def throughput_key(spec) -> str:
    """The key of `train_throughput`'s figure for ``spec``: ``train_<items>_per_s``."""
    return f"train_{spec.items}_per_s"


def train_throughput(spec, runtime: Runtime | None = None, seconds: float = 60, data_dir: str | None = None) -> dict:
    """``bench throughput TASK``: train ``spec``'s shipped recipe on its real data for
    ``seconds`` with ``runtime`` (device, precision, and the processes torchrun
    started; None: one process on the CPU) and print the items trained per second by
    all of them together, validation time left out (rank 0 validates while the
    others wait). Nothing is saved."""
    runtime = runtime or Runtime()
    _, result = spec.train({"max_minutes": seconds / 60}, data_dir=data_dir, runtime=runtime)
    training = max(result.elapsed - result.eval_seconds, 1e-9)
    key = throughput_key(spec)
    out = {"task": spec.name, **runtime.record(), "threads": torch.get_num_threads(), "budget_seconds": seconds,
           "steps": result.steps, "seconds": training, "validation_seconds": result.eval_seconds,
           key: result.tokens / training}
    if runtime.is_main:
        print(f"{spec.name}, the shipped recipe on {runtime.world_size} x {out['device']} ({runtime.precision}, "
              f"{out['threads']} intra-op thread(s) each): {out[key]:,.0f} {spec.items}/s over "
              f"{result.steps} steps in {training:.0f} s (+{result.eval_seconds:.0f} s validating, not counted)",
              flush=True)
    return out
