"""One run of the gradient lab: the memory task trained live with the shared loop
(`rnn_core.train.train`), measured as it learns.

`train_lab` is what the tab's `rnn_core.jobs.TrainingJob` runs in its child process
and what ``python -m rnn_core bench gradients`` times. Its progress reports carry,
besides the loss, the global gradient norm of every step before clipping
(``Progress.grad_norms``) and, after every validation, in ``Progress.val``:
accuracy, the gradient reaching every time step on a fixed probe batch
(`rnn_core.gradlab.probe`), the recurrent weights' spectral radius and the memory
gates of one example.
"""
from __future__ import annotations

import functools
import math
import time
from typing import Callable

import torch

from ..options import Option, clamp_options
from ..runtime import evaluating
from ..stopping import StopReason
from ..train import Progress, TrainConfig, TrainResult, seed_everything, train
from .model import MemoryNet, spectral_radius
from .probe import gate_trace, step_gradients
from .task import CHANCE, batches, fixed_batch

# What a visitor may set; anything else is clamped with a note (`settings_from`).
SETTINGS = {
    "cell": Option("lstm", choices=("rnn", "lstm", "gru")),
    "gap": Option(100, 5, 200),          # T: blank steps between the symbol and the answer
    "hidden": Option(32, 4, 128),
    "scale": Option(0.6, 0.1, 2.0),      # spectral radius of the recurrent weights at init
                                         # (0.6: about PyTorch's default for 32 units)
    "clip": Option(True),                # clip the global gradient norm to CLIP_NORM
    "lr": Option(0.001, 1e-4, 1.0),      # 0.001: Adam's default
    "optimizer": Option("adam", choices=("adam", "sgd")),
    "seconds": Option(45.0, 5.0, 60.0),  # time budget
    "seed": Option(0, 0, 2**31 - 1),
}
CLIP_NORM = 1.0
BATCH, VAL_BATCH, PROBE_BATCH = 64, 512, 32
SOLVED = 0.99          # validation accuracy at which a run stops early: the task is learned
EVAL_SECONDS = 0.6     # aim: a validation + probe (a progress report with figures) this often
LOG_SECONDS = 0.3      # and a loss / gradient-norm report this often
NEAR_CHANCE = 0.10     # "near chance": best accuracy at most this above chance (why: presets.py)
EXPLODED = 1e3         # a gradient norm above this (before clipping) counts as an explosion
MEMORY_BIAS = 5.0      # added to the LSTM forget gate's / GRU update gate's bias (`MemoryNet`)
# The message of the report `train_lab` sends first, as soon as it runs: the training
# process is up and is preparing (the tab tells the phases apart by it).
PREPARING = "preparing"


def settings_from(values: dict) -> tuple[dict, list[str]]:
    """``values`` clamped to `SETTINGS` (missing -> default), and a note per change."""
    return clamp_options(values, SETTINGS)


def _stop_when(*conditions: Callable[[], bool]):
    """An object the loop polls like a ``threading.Event``: set when any condition holds."""
    class Stop:
        def is_set(self) -> bool:
            return any(c() for c in conditions)
    return Stop()


def _step_seconds(model, gap: int) -> float:
    """Seconds one training step takes at these settings (timed on two throwaway steps)."""
    batch = fixed_batch(1, BATCH, gap)
    times = []
    for _ in range(2):
        started = time.perf_counter()
        _, loss = model(**batch)
        loss.backward()
        times.append(time.perf_counter() - started)
    model.zero_grad(set_to_none=True)
    # A process's first optimiser imports torch._dynamo (torch's add_param_group is wrapped
    # in a lazy `_disable_dynamo`): 1.5-2.3 s measured on one core, paid here rather than
    # on the loop's clock, where it would eat the time budget.
    torch.optim.Adam(model.parameters())
    return min(times) * 1.15  # the optimiser step and the batch's making, roughly


def _config(s: dict, step_s: float) -> TrainConfig:
    # a constant learning rate (min_lr_ratio=1): the loop's cosine decay follows the wall clock, which
    # made the same seed train differently from run to run (measured: the clipped radius-2 RNN solved
    # in 1.6 s with a 30 s budget and stalled at 46% with 20 s); constant, a seed is one trajectory
    return TrainConfig(epochs=100_000, lr=s["lr"], min_lr_ratio=1.0, optimizer=s["optimizer"],
                       clip=CLIP_NORM if s["clip"] else 0.0,
                       max_minutes=s["seconds"] / 60, eval_every=max(1, round(EVAL_SECONDS / step_s)),
                       patience=None, seed=s["seed"], log_every=max(1, round(LOG_SECONDS / step_s)))


def train_lab(values: dict, on_progress: Callable[[Progress], None] | None = None,
              stop=None) -> tuple[dict, TrainResult]:
    """Train the memory task with ``values`` (see `SETTINGS`) and measure it live.

    Args:
        values: the visitor's settings; out-of-range ones are clamped (the notes are
            in the returned summary).
        on_progress: gets every `Progress`: first one with the message `PREPARING` and
            no figures, as soon as this runs (the network is not built yet); then one at
            step 0 with the untrained network's figures, just before the first step.
        stop: a ``threading.Event``-like flag (the UI's Stop).

    Returns:
        (a summary of small figures (`summarise`), the loop's `TrainResult`). Its
        ``setup_seconds`` is the time from this call to the first training step.
    """
    entered = time.perf_counter()
    s, notes = settings_from(values)
    if on_progress:
        on_progress(Progress(0, 0, 0, 0.0, 0.0, math.nan, s["lr"], None, PREPARING))
    seed_everything(s["seed"])
    model = MemoryNet(s["cell"], s["hidden"], s["scale"], memory_bias=MEMORY_BIAS)
    radius0 = spectral_radius(model.rnn)
    val, probe = fixed_batch(s["seed"], VAL_BATCH, s["gap"]), fixed_batch(s["seed"] + 1, PROBE_BATCH, s["gap"])
    step_s = _step_seconds(model, s["gap"])
    state = {"nonfinite": False, "solved": False, "max_norm": 0.0, "last": {}, "reports": [], "setup": 0.0}

    def evaluate(m) -> dict:
        logits, loss = m(**val)
        accuracy = float((logits.argmax(-1) == val["targets"]).float().mean())
        grads = step_gradients(m, probe)
        figures = {"accuracy": accuracy, "val_loss": float(loss), "h_norms": grads["h_norms"],
                   "c_norms": grads["c_norms"], "radius": spectral_radius(m.rnn)}
        state["solved"] = state["solved"] or accuracy >= SOLVED  # the best weights are kept
        # the gate map (units x steps) goes to the live report only, not into the history
        state["gates"] = gate_trace(m.rnn, probe["x"][0])
        state["last"] = figures
        return figures

    def report(p: Progress) -> None:
        state["reports"].append(time.perf_counter())
        finite = [g for g in p.grad_norms if math.isfinite(g)]
        state["max_norm"] = max([state["max_norm"]] + finite)
        if len(finite) < len(p.grad_norms) or not math.isfinite(p.train_loss) and p.step > 0:
            state["nonfinite"] = True
        if p.val is not None and "h_norms" in p.val:
            p.val = {**p.val, "gates": state.get("gates")}
        if on_progress:
            on_progress(p)

    with evaluating(model):
        report(Progress(0, 0, 0, 0.0, 0.0, math.nan, s["lr"], evaluate(model), "started"))
    cfg = _config(s, step_s)
    until = _stop_when(lambda: stop is not None and stop.is_set(),
                       lambda: state["nonfinite"], lambda: state["solved"])
    state["setup"] = time.perf_counter() - entered
    result = train(model, functools.partial(_epoch, s), 100, lambda m: evaluate(m), cfg,
                   on_progress=report, stop=until)
    result.stopped = _why_stopped(state, result.stopped)
    return summarise(s, notes, state, radius0, result), result


def _why_stopped(state: dict, loop_reason: StopReason) -> StopReason:
    # both end the loop through its stop flag, which alone would read "stopped"
    if state["nonfinite"]:
        return StopReason.NON_FINITE
    if state["solved"]:
        return StopReason.SOLVED
    return loop_reason


def _epoch(s: dict, epoch: int):
    return batches(s["seed"], epoch, 100, BATCH, s["gap"])


def summarise(s: dict, notes: list[str], state: dict, radius0: float, result: TrainResult) -> dict:
    """The run's figures (small: it travels back from the training process)."""
    last = state["last"]
    h = last.get("h_norms") or [math.nan]
    ratio = h[0] / h[-1] if h[-1] > 0 else math.nan
    reports = state["reports"]
    gaps = [b - a for a, b in zip(reports, reports[1:])]
    accuracies = [e["accuracy"] for e in result.history if "accuracy" in e]
    summary = {"settings": s, "notes": notes, "accuracy": max(accuracies, default=math.nan),
               "final_accuracy": last.get("accuracy", math.nan), "chance": CHANCE,
               "ratio": ratio, "max_grad_norm": state["max_norm"], "nonfinite": state["nonfinite"],
               "radius_start": radius0, "radius_end": last.get("radius", math.nan),
               "seconds": result.elapsed, "setup_seconds": state["setup"], "steps": result.steps,
               "stopped": result.stopped,
               "max_report_gap": max(gaps, default=0.0), "clip_norm": CLIP_NORM if s["clip"] else None}
    summary["verdict"] = explain(summary)
    return summary


# A run the visitor stopped before this many steps says nothing about its gradients yet
# (the first probe comes after the first validation).
MIN_STEPS_TO_JUDGE = 50


def explain(r: dict) -> str:
    """One sentence on what happened and why, chosen from the measured figures (never
    from a preset's name), in the terms of the guides: BPTT, vanishing and exploding
    gradients, gates, clipping."""
    s, acc, chance = r["settings"], r["accuracy"], r["chance"]
    ratio, peak = r["ratio"], r["max_grad_norm"]
    gated = s["cell"] != "rnn"
    ratio_text = (("0 (below float32's range)" if ratio == 0 else f"{ratio:.1e}") if math.isfinite(ratio)
                  else "not measurable")
    radii = f"from {r['radius_start']:.3g} to {r.get('radius_end', math.nan):.3g}"
    if r["nonfinite"]:
        return (f"Exploding gradients: the loss became infinite or NaN after {r['steps']} steps. "
                f"The recurrent weights (spectral radius {r['radius_start']:.2f}) multiplied the gradient "
                f"at every step back through time, its norm reached {peak:.1e}, and one unclipped update "
                "threw the weights out of range; gradient clipping would have capped each update.")
    if r.get("stopped") == StopReason.STOPPED and acc < 0.9 and r["steps"] < MIN_STEPS_TO_JUDGE:
        return (f"Stopped after {r['steps']} step{'s' * (r['steps'] != 1)}: too early to say whether the gradient "
                f"vanishes or explodes (accuracy {acc:.0%}, chance {chance:.0%}); let a run train longer.")
    if acc >= 0.9:
        why = (f"the {s['cell'].upper()}'s gates gave the gradient a path across all {s['gap']} steps "
               f"(||dL/dh_1|| / ||dL/dh_T|| = {ratio_text})" if gated else
               f"at a gap of {s['gap']} the gradient still reached the first step "
               f"(||dL/dh_1|| / ||dL/dh_T|| = {ratio_text})")
        if s["clip"] and peak > 10 * CLIP_NORM:
            why += (f"; the gradient norm spiked to {peak:.1e}, and clipping cut every update to norm "
                    f"{CLIP_NORM:g}, so the spikes did no harm")
        return (f"Learned: {acc:.0%} accuracy (chance {chance:.0%}) after {_training_time(r)}, "
                f"because {why}.")
    if not s["clip"] and peak > EXPLODED:
        step = ("with SGD an update is the gradient times the learning rate, so " if s["optimizer"] == "sgd"
                else "")
        thrown = r.get("radius_end", 0) > 2 * r["radius_start"]
        effect = (f"threw the recurrent weights' spectral radius {radii}, where tanh saturates and the "
                  "gradient dies," if thrown else "kept knocking the weights about,")
        return (f"Exploding gradients: without clipping the gradient norm reached {peak:.1e}; {step}the "
                f"updates {effect} so accuracy stayed at {acc:.0%} (chance {chance:.0%}). Clipping "
                "caps every update's norm: turn it on.")
    if acc <= chance + NEAR_CHANCE and math.isfinite(ratio) and ratio < 1e-3:
        adam = (" Even Adam, which rescales each weight's step by its gradient's recent size, cannot "
                "amplify a gradient that far below its 1e-8 floor." if s["optimizer"] == "adam" else "")
        reach = ("was too small for float32 (it read 0)" if ratio == 0 else
                 f"was {ratio_text} times the one at the last")
        return (f"Vanishing gradient: accuracy stayed near chance ({acc:.0%}, chance {chance:.0%}) because "
                f"the gradient reaching the first step {reach}: through "
                f"{s['gap']} steps of backpropagation through time it shrank to nothing, so nothing taught "
                "the first step to store the symbol." + adam + ("" if gated else " An LSTM's or GRU's gates "
                                                               "keep that path open."))
    return (f"Partly learned: {acc:.0%} accuracy (chance {chance:.0%}) after {_training_time(r)}, with "
            f"||dL/dh_1|| / ||dL/dh_T|| = {ratio_text} and the spectral radius {radii}; a longer budget, a "
            "shorter gap or another learning rate may finish the job.")


def _training_time(r: dict) -> str:
    # "of training": the loop's clock only, not the process start and preparation before
    # it (a visitor who waited 9 s for "learned in 1 s" read it as a mistake, issue 28)
    seconds = r["seconds"]
    return f"{seconds:.1f} s of training" if seconds < 10 else f"{seconds:.0f} s of training"
