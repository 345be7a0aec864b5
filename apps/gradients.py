"""Gradient lab tab: a long-range memory task trained live, to watch vanishing and
exploding gradients, gates and clipping happen (backpropagation through time).

No shipped model and no data set: every run trains from scratch on this server's
CPU, in the retrain machinery's child process (`rnn_core.jobs`), one per session.
Run alone with ``python -m apps.gradients``.
"""
from __future__ import annotations

import functools
import html
import time

import gradio as gr

from rnn_core.gradlab import PRESETS, SETTINGS, preset, settings_from, train_lab
from rnn_core.gradlab.lab import CLIP_NORM, PREPARING
from rnn_core.gradlab.task import CHANCE
from rnn_core.jobs import TrainingJob
from rnn_core.stopping import StopReason

from . import gradient_plots as plots
from .job_slots import claim_job, release_job, session_key, stop_session_job
from .layout import bptt_svg
from .retrain import progress_html

TITLE = "Gradients"  # short: six tab names fit a phone's row
SHAPE = "many-to-one"
DIAGRAM = (["A", "x", "z", "y"], ["", "", "", "A?"])
SUMMARY = ("Watch backpropagation through time: a plain RNN's gradient vanishes over 100 steps, an LSTM's "
           "gates carry it, clipping tames an exploding one. Trains live in under a minute.")
CARD_SVG = bptt_svg  # the landing card draws BPTT, not the task shape
PLOT_SECONDS = 1.5   # the figures are redrawn at least this often while training (when there is news)
PRESET_NOTE = (
    "**Presets** (one click fills the settings and trains). *Vanishing:* a plain RNN and an LSTM, identical "
    "but for the cell (T=100, recurrent weights at spectral radius 0.6, about PyTorch's default; Adam at "
    "0.001, its default; the LSTM's forget gate starts nearly open, bias +5). Measured on one core: the "
    "LSTM learns in a few seconds, the RNN stays at chance "
    "for all 45 s, its gradient at step 1 below 1e-17 of the one at step 100. *Exploding:* a plain RNN at "
    "radius 2 and T=80, trained with plain SGD, whose step is the gradient times the learning rate, so a "
    "gradient spike is a weight spike (Adam rescales each step, which hides an explosion); the same seed "
    "without and with clipping. Unclipped, the norm reaches about 1e4 and the weights never recover; "
    "clipped to norm 1, it learns in a few seconds.")
NAMES = list(SETTINGS)  # cell, gap, hidden, scale, clip, lr, optimizer, seconds, seed


def _state() -> dict:
    # "clicked", "turn", "up": when the visitor pressed Train, the job got the training
    # slot, the training process reported that it runs (the message `PREPARING`)
    return {"losses": [], "accuracy": [], "norms": [], "steps": [], "h": [], "c": None, "gates": None,
            "fraction": 0.0, "clicked": time.monotonic(), "turn": None, "up": None}


def _take(seen: dict, p) -> None:
    """Fold one progress report into what the figures and the status draw."""
    if p.message == PREPARING:
        seen["up"] = time.monotonic()
        return
    seen["fraction"] = p.fraction
    if p.step and p.train_loss == p.train_loss:
        seen["losses"].append((p.step, p.train_loss))
    seen["norms"] += p.grad_norms
    if p.val and "h_norms" in p.val:
        seen["accuracy"].append((p.step, p.val["accuracy"]))
        seen["steps"].append((p.step, p.val["h_norms"]))
        seen["h"], seen["c"] = p.val["h_norms"], p.val.get("c_norms")
        seen["gates"] = p.val.get("gates", seen["gates"])
        seen["radius"] = p.val.get("radius")


def figures(seen: dict, s: dict) -> tuple:
    """The four figures for what has been seen so far."""
    return (plots.curves(seen["losses"], seen["accuracy"], CHANCE),
            plots.step_norms(seen["h"] or [1.0], seen["c"], seen["steps"][-60:]),
            plots.global_norms(seen["norms"], CLIP_NORM if s["clip"] else None),
            plots.gates(seen["gates"], s["cell"]))


def _phase(job: TrainingJob, seen: dict) -> str:
    if job.waiting:
        return "waiting"
    if job.stop_event.is_set():
        return "stopping"
    if seen["h"]:  # the step-0 report, sent just before the first step
        return "training"
    return "preparing" if seen["up"] is not None else "starting"


def _status(job: TrainingJob, seen: dict, s: dict) -> str:
    """The status line: what the run is doing now, in the visitor's terms."""
    phase, now = _phase(job, seen), time.monotonic()
    if phase == "waiting":
        return f"Waiting for the training slot: {job.ahead} ahead of you..."
    if phase == "stopping":
        return "Stopping after the current step..."
    if phase == "starting":  # measured: most of the wait before the first step (issue 28)
        return (f"Starting the training process (a new Python process loading PyTorch and the gallery's "
                f"code): {now - (seen['turn'] or now):.0f} s...")
    if phase == "preparing":
        return (f"Preparing: building the {s['cell'].upper()} network and loading PyTorch's optimiser code "
                f"(once per training process): {now - seen['up']:.0f} s...")
    h = seen["h"]
    ratio = h[0] / h[-1] if h[-1] > 0 else float("nan")
    acc = seen["accuracy"][-1][1] if seen["accuracy"] else float("nan")
    return (f"step {seen['steps'][-1][0]}: accuracy {acc:.0%} (chance {CHANCE:.0%}), "
            f"||dL/dh_1|| / ||dL/dh_T|| = {ratio:.1e}, spectral radius {seen.get('radius', 0):.2f}")


def _result_in(job: TrainingJob) -> bool:
    # the result (or the error) is in: jobs.py then waits for the training process to
    # exit before `done` (measured 0.8-1.3 s), which the visitor need not watch
    return job.finished() or job.predictor is not None or job.error is not None


def _stream(job: TrainingJob, seen: dict, s: dict, head: str):
    """Yield the status, and the figures when there is news, until the run's result is in:
    at every change of phase, else at least every `PLOT_SECONDS`."""
    shown, drawn, last = None, 0, 0.0
    while not _result_in(job):
        if seen["turn"] is None and not job.waiting:
            seen["turn"] = time.monotonic()
        for p in job.updates(timeout=0.3):
            _take(seen, p)
        phase = _phase(job, seen)
        if phase == shown and time.monotonic() - last < PLOT_SECONDS:
            continue
        shown, last = phase, time.monotonic()
        news = len(seen["norms"]) + len(seen["steps"])
        figs = figures(seen, s) if news > drawn else (gr.skip(),) * 4
        drawn = news
        yield (head + progress_html(seen["fraction"], _status(job, seen, s)),) + figs
    for p in job.updates(timeout=0):  # every report was queued before the result
        _take(seen, p)


def _timing(r: dict, seen: dict) -> str:
    """Where the time went, so "1 s of training" after a 9 s wait reads as what it is."""
    now, turn = time.monotonic(), seen["turn"] or seen["clicked"]
    parts = []
    if turn - seen["clicked"] >= 1:
        parts.append(f"{turn - seen['clicked']:.0f} s waiting for the training slot")
    if seen["up"] is not None:
        parts.append(f"{seen['up'] - turn:.1f} s starting the training process")
    parts.append(f"{r['setup_seconds']:.1f} s preparing")
    return (f"{r['seconds']:.1f} s of training ({now - seen['clicked']:.0f} s since you pressed Train: "
            f"{', '.join(parts)})")


def _final(job: TrainingJob, seen: dict, s: dict, head: str) -> tuple:
    """The last status and figures: how the run ended, where the time went, what happened.
    A run the visitor stopped keeps its bar where it stopped."""
    if job.error:
        return (head + progress_html(seen["fraction"], f"Training failed: {job.error}"),) + (gr.skip(),) * 4
    r = job.predictor  # the summary (small figures); the loop's TrainResult is job.result
    drawn = figures(seen, s)  # first: the time "since you pressed Train" includes drawing them
    if r["stopped"] == StopReason.STOPPED:
        ended, fraction = (f"<b>Stopped</b> by you at step {r['steps']}, {r['seconds']:.1f} s into its "
                           f"{r['settings']['seconds']:.0f} s budget"), seen["fraction"]
    else:
        ended, fraction = f"<b>Done</b> ({r['stopped'].replace('_', ' ')}) after {r['steps']} steps", 1.0
    line = (f"{ended}: {_timing(r, seen)}. Best accuracy {r['accuracy']:.0%}, chance {r['chance']:.0%}; "
            f"largest gradient norm {r['max_grad_norm']:.1e}; spectral radius {r['radius_start']:.2f} at the "
            f"start, {r['radius_end']:.2f} at the end.")
    return ((head + progress_html(fraction, line, raw=True)
             + f'<p style="font-size:1.05em"><b>What happened:</b> {html.escape(r["verdict"])}</p>'),) + drawn


def run(cell, gap, hidden, scale, clip, lr, optimizer, seconds, seed, request: gr.Request = None):
    """Handler: train the lab with the settings (clamped with a note) and stream the
    status (which phase: starting the process, preparing, training) and the four
    figures, redrawn at least every `PLOT_SECONDS`."""
    values = (cell, gap, hidden, scale, clip, lr, optimizer, seconds, seed)
    s, notes = settings_from(dict(zip(NAMES, values)))
    key = session_key(request)
    seen = _state()
    job = claim_job(key, TrainingJob(functools.partial(train_lab, s), task="gradients"), "A training")
    head = "".join(f"<div>&#9888; {html.escape(n)}</div>" for n in notes)
    try:
        yield (head + progress_html(0, "Starting the training process..."),) + (gr.skip(),) * 4
        yield from _stream(job, seen, s, head)
        yield _final(job, seen, s, head)
    finally:
        release_job(key, job)  # a closed tab or a cancelled event must not leave training running


def stop(request: gr.Request = None):
    """Handler: stop this session's lab run (not another tab's retrain)."""
    stop_session_job(request, "gradients")
    return gr.skip()


def fill(name: str) -> list:
    """Handler: the named preset's settings, in the order of the controls."""
    s = preset(name)
    return [s[n] for n in NAMES]


def build() -> None:
    """Build the tab's UI inside the current Blocks context."""
    gr.HTML(f'<div style="display:flex;gap:1.5em;align-items:center;flex-wrap:wrap">{bptt_svg()}'
            '<div style="max-width:46em"><b>What is BPTT?</b> To learn, a recurrent network is unrolled over '
            'the sequence and the loss\'s gradient is sent back through every step (backpropagation through '
            'time). At each step it is multiplied by the recurrent weights and the activation\'s slope: below 1 '
            'it <i>vanishes</i> before reaching the early steps, above 1 it <i>explodes</i>. The task here: '
            'remember the first of four symbols across T steps of random distractor symbols (chance 25%). '
            'Nothing is shipped or downloaded: every run trains from scratch on this server\'s CPU (one at a '
            'time), in under a minute.</div></div>')
    gr.Markdown(PRESET_NOTE)
    with gr.Row():
        buttons = [gr.Button(name, size="sm") for name in PRESETS]
    o = SETTINGS
    with gr.Row():
        cell = gr.Radio(list(o["cell"].choices), value=o["cell"].default, label="cell")
        gap = gr.Slider(5, 200, value=o["gap"].default, step=1, label="gap T (steps to remember across)")
        hidden = gr.Slider(4, 128, value=o["hidden"].default, step=4, label="hidden units")
    with gr.Row():
        scale = gr.Slider(0.1, 2.0, value=o["scale"].default, step=0.05,
                          label="recurrent weight scale (spectral radius of W_hh)")
        clip = gr.Checkbox(value=o["clip"].default, label=f"clip the gradient norm to {CLIP_NORM:g}")
        lr = gr.Number(value=o["lr"].default, label="learning rate (0.0001-1)")
    with gr.Accordion("More settings", open=False), gr.Row():
        optimizer = gr.Radio(list(o["optimizer"].choices), value=o["optimizer"].default,
                             label="optimiser (Adam rescales each weight's step by its gradient's recent size; "
                                   "SGD's step is the gradient times the learning rate)")
        seconds = gr.Slider(5, 60, value=o["seconds"].default, step=1, label="time budget (s)")
        seed = gr.Number(value=0, label="seed", precision=0)
    controls = [cell, gap, hidden, scale, clip, lr, optimizer, seconds, seed]
    with gr.Row():
        go = gr.Button("Train", variant="primary")
        halt = gr.Button("Stop training", variant="stop")
    status = gr.HTML()
    # two figures a row on a wide screen, one a row on a phone (min_width: the row wraps)
    with gr.Row():
        curve = gr.Plot(label="loss and accuracy against chance", format="png", min_width=360)
        per_step = gr.Plot(label="gradient reaching each time step", format="png", min_width=360)
    with gr.Row():
        norm = gr.Plot(label="global gradient norm per training step", format="png", min_width=360)
        gate = gr.Plot(label="memory gate over the sequence (one example)", format="png", min_width=360)
    outputs = [status, curve, per_step, norm, gate]
    for button, name in zip(buttons, PRESETS):
        button.click(functools.partial(fill, name), None, controls, queue=False, api_visibility="private")\
            .then(run, controls, outputs, concurrency_limit=None, show_progress="hidden")
    go.click(run, controls, outputs, api_name="gradients_train", concurrency_limit=None, show_progress="hidden")
    halt.click(stop, None, status, api_name="gradients_stop", queue=False)


if __name__ == "__main__":
    with gr.Blocks(title="RNN Gallery: gradient lab") as demo:
        build()
    demo.launch()
