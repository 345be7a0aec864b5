"""The Retrain panel every tab has: settings (from the task's `TaskSpec`),
Retrain/Stop, a progress bar, a live curve and the visitor's checkpoint to download.
Training itself runs in a child process (`rnn_core.jobs`); the model it makes lives
only in that visitor's session. UI and event wiring only: no torch here."""
from __future__ import annotations

import html
import shutil
import tempfile
import threading
import time
from pathlib import Path

import gradio as gr
import matplotlib

matplotlib.use("Agg")  # no display on servers
import matplotlib.pyplot as plt  # noqa: E402

from rnn_core.jobs import TrainingJob, job_for  # noqa: E402
from rnn_core.metrics import Metric  # noqa: E402
from rnn_core.options import Option  # noqa: E402
from rnn_core.tasks.spec import TaskSpec  # noqa: E402


def training_curve(history: list[dict], metric: Metric):
    """Training loss (left axis) and the validation metric (right axis) against step."""
    fig, ax = plt.subplots(figsize=(6, 3), dpi=90)
    steps = [h["step"] for h in history if h.get("train_loss") is not None]
    ax.plot(steps, [h["train_loss"] for h in history if h.get("train_loss") is not None],
            color="#3b6fc4", label="train loss")
    ax.set_xlabel("step")
    ax.set_ylabel("train loss", color="#3b6fc4")
    val = [(h["step"], h[metric.key]) for h in history if h.get(metric.key) is not None]
    if val:
        ax2 = ax.twinx()
        ax2.plot(*zip(*val), "o-", color="#b5480b", label=metric.label)
        ax2.set_ylabel(metric.label, color="#b5480b")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    plt.close(fig)
    return fig


# Retraining: one running job per browser session, so Stop reaches the right one.
_jobs: dict[str, TrainingJob] = {}
_jobs_lock = threading.Lock()


def _control(name: str, opt: Option, label: str):
    if opt.choices is not None:
        return gr.Radio(list(opt.choices), value=opt.default, label=label)
    if isinstance(opt.default, bool):
        return gr.Checkbox(value=opt.default, label=label)
    if isinstance(opt.default, int):
        return gr.Slider(opt.low, opt.high, value=opt.default, step=1, label=label)
    return gr.Number(value=opt.default, label=label, minimum=opt.low, maximum=opt.high)


# Labels of the retrain settings the tabs share; a tab may add or override some.
RETRAIN_LABELS = {"cell": "cell", "bidirectional": "bidirectional", "hidden": "hidden units",
                  "layers": "layers", "lr": "learning rate", "epochs": "epochs",
                  "max_minutes": "time budget (minutes)", "embed": "embedding size"}


def retrain_panel(spec: TaskSpec, budget_note: str, labels: dict[str, str] | None = None) -> gr.State:
    """The Retrain accordion: settings, Retrain/Stop, a progress bar, a live curve, a
    status line and the retrained checkpoint to download.

    Args:
        spec: the task: what a visitor may set (``retrain_bounds``), how it trains,
            and the validation ``metric`` the curve and status show.
        budget_note: a sentence on what a retrain with the defaults does and costs.
        labels: option name -> label shown beside its control, beside `RETRAIN_LABELS`.

    Returns:
        A ``gr.State`` holding this session's retrained predictor (None until a
        retrain finishes). It lives only in this visitor's session; the shipped
        weights are never touched.
    """
    retrained = gr.State(None)
    metric = spec.metric
    with gr.Accordion("Retrain it yourself", open=False):
        gr.Markdown(budget_note + " The model you train lives only in this browser session; "
                    "the pretrained weights everyone else uses are never changed.")
        names = list(spec.retrain_bounds)
        labels = {**RETRAIN_LABELS, **(labels or {})}
        controls = []
        for row in range(0, len(names), 4):
            with gr.Row():
                controls += [_control(n, spec.retrain_bounds[n], labels.get(n, n)) for n in names[row:row + 4]]
        with gr.Row():
            start = gr.Button("Retrain", variant="primary")
            stop = gr.Button("Stop", variant="stop")
        status = gr.HTML()
        curve = gr.Plot(label="training curve", format="png")
        download = gr.File(label="your retrained checkpoint (model.safetensors + config.json)")

    def run(values: dict, request: gr.Request):
        # `values` maps each control to its value (the inputs are given as a set)
        options, notes = spec.retrain_options({n: values[c] for n, c in zip(names, controls)})
        key = request.session_hash if request else "local"
        job = job_for(spec.name, options)
        with _jobs_lock:
            if key in _jobs and not _jobs[key].done.is_set():
                raise gr.Error("A retrain is already running in this session: stop it first.")
            _jobs[key] = job.start()
        notes_html = "".join(f"<div>&#9888; {html.escape(n)}</div>" for n in notes)
        history, fraction, last_yield = [], 0.0, 0.0
        try:
            yield notes_html + _progress_html(0, "Loading data and building the model..."), None, None, gr.skip()
            while not job.finished():
                for p in job.updates(timeout=0.3):
                    history.append({"step": p.step, "train_loss": p.train_loss, **(p.val or {})})
                    fraction = p.fraction
                if time.monotonic() - last_yield > 1.0:
                    last_yield = time.monotonic()
                    if job.waiting:
                        line = "Waiting for another visitor's training to finish..."
                    elif job.stop_event.is_set():
                        line = "Stopping after the current step; the best weights so far are kept..."
                    else:
                        line = _status_line(history, metric)
                    yield (notes_html + _progress_html(fraction, line) + _latest_sample(history),
                           training_curve(history, metric), gr.skip(), gr.skip())
            if job.error:
                yield notes_html + _progress_html(fraction, f"Training failed: {job.error}"), gr.skip(), None, gr.skip()
                return
            folder = Path(tempfile.mkdtemp(prefix=f"rnn-gallery-{spec.name}-"))
            job.predictor.save(folder / "checkpoint")
            archive = _zip(folder / "checkpoint", folder / f"{spec.name}-retrained")
            r = job.result
            done = (f"<b>Done</b> ({r.stopped.replace('_', ' ')}) after {r.steps} steps in {r.elapsed:.0f} s: "
                    f"best {metric.label} {r.best.get(metric.key, float('nan')):.3f}. "
                    "Your model is ready in this tab, for this session only.")
            yield (notes_html + _progress_html(1.0, done, raw=True) + _latest_sample(history),
                   training_curve(history, metric), archive, job.predictor)
        finally:
            job.stop()  # a closed tab or a cancelled event must not leave training running
            with _jobs_lock:
                if _jobs.get(key) is job:
                    del _jobs[key]

    def stop_job(request: gr.Request):
        job = _jobs.get(request.session_hash if request else "local")
        if job is not None:
            job.stop()  # the running retrain's next status update says so
        return gr.skip()

    start.click(run, set(controls), [status, curve, download, retrained], api_name=f"{spec.name}_retrain",
                concurrency_limit=2, concurrency_id="retrain", show_progress="hidden")
    stop.click(stop_job, None, status, api_name=f"{spec.name}_stop", queue=False)
    return retrained


def _progress_html(fraction: float, line: str, raw: bool = False) -> str:
    """A progress bar with a status line under it (``raw``: ``line`` is already HTML)."""
    pct = max(0.0, min(1.0, fraction)) * 100
    text = line if raw else html.escape(line)
    return (f'<div style="background:#e5e7eb;border-radius:4px;height:10px;margin:4px 0">'
            f'<div style="width:{pct:.1f}%;background:#3b6fc4;height:10px;border-radius:4px"></div></div>'
            f'<div>{pct:.0f}% &middot; {text}</div>')


def _status_line(history: list[dict], metric: Metric) -> str:
    if not history:
        return "Loading data and building the model..."
    last = history[-1]
    vals = [h[metric.key] for h in history if h.get(metric.key) is not None]
    best = f", best {metric.label} so far {metric.best(vals):.3f}" if vals else ""
    return f"step {last['step']}: train loss {last['train_loss']:.3f}{best}"


def _latest_sample(history: list[dict]) -> str:
    """The newest sample a task wrote at validation (text generators), as HTML."""
    sample = next((h["sample"] for h in reversed(history) if h.get("sample")), None)
    if not sample:
        return ""
    return (f'<div>latest sample:</div><pre style="white-space:pre-wrap;background:#f6f6f6;padding:6px">'
            f'{html.escape(sample)}</pre>')


def _zip(folder: Path, base: Path) -> str:
    return shutil.make_archive(str(base), "zip", folder)
