"""UI pieces every tab shares: the task-shape diagram, the model card, the training
curve and the retrain panel. UI and event wiring only: no torch here."""
from __future__ import annotations

import functools
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

from rnn_core.checkpoint import CheckpointError  # noqa: E402
from rnn_core.jobs import TrainingJob, job_for  # noqa: E402
from rnn_core.tasks.options import Option  # noqa: E402

POSITIVE, NEGATIVE = "#2e7d32", "#c62828"

# The three task shapes, drawn as unrolled networks: inputs (bottom), the recurrent
# state (middle, with arrows carrying it along time) and outputs (top).
_SHAPES = {
    "many-to-one": ([1, 1, 1, 1], [0, 0, 0, 1]),
    "one-to-many": ([1, 0, 0, 0], [1, 1, 1, 1]),
    "many-to-many": ([1, 1, 1, 1], [1, 1, 1, 1]),
}


def diagram_svg(shape: str, inputs: list[str] | None = None, outputs: list[str] | None = None,
                width: int = 300) -> str:
    """A small SVG of an unrolled RNN of the given task shape, ``width`` pixels wide."""
    ins, outs = _SHAPES[shape]
    inputs = inputs or ["x1", "x2", "x3", "x4"]
    outputs = outputs or ["y1", "y2", "y3", "y4"]
    parts = [f'<svg viewBox="0 0 300 150" width="{width}" height="{width // 2}" role="img" '
             f'aria-label="{shape} recurrent network" style="font:12px sans-serif">',
             '<defs><marker id="a" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" '
             'markerHeight="6" orient="auto"><path d="M0,0L10,5L0,10z" fill="#555"/></marker></defs>']
    for i in range(4):
        x = 30 + i * 70
        parts.append(f'<rect x="{x}" y="55" width="44" height="32" rx="6" fill="#e3ecfa" stroke="#3b6fc4"/>'
                     f'<text x="{x + 22}" y="75" text-anchor="middle">h{i + 1}</text>')
        if i < 3:
            parts.append(f'<line x1="{x + 44}" y1="71" x2="{x + 68}" y2="71" stroke="#555" marker-end="url(#a)"/>')
        if ins[i]:
            parts.append(f'<line x1="{x + 22}" y1="118" x2="{x + 22}" y2="89" stroke="#555" marker-end="url(#a)"/>'
                         f'<text x="{x + 22}" y="135" text-anchor="middle">{html.escape(inputs[i])}</text>')
        if outs[i]:
            parts.append(f'<line x1="{x + 22}" y1="55" x2="{x + 22}" y2="28" stroke="#555" marker-end="url(#a)"/>'
                         f'<text x="{x + 22}" y="20" text-anchor="middle" fill="#b5480b">{html.escape(outputs[i])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def shape_header(shape: str, sentence: str, inputs=None, outputs=None) -> gr.HTML:
    """The tab's header: the diagram beside one sentence on what the shape means."""
    return gr.HTML(f'<div style="display:flex;gap:1.5em;align-items:center;flex-wrap:wrap">'
                   f'{diagram_svg(shape, inputs, outputs)}<div style="max-width:46em">'
                   f'<b>{shape}</b>: {sentence}</div></div>')


SHAPE_MEANINGS = {
    "many-to-one": "a whole sequence in, one answer out",
    "one-to-many": "one input (or a short prime) in, a sequence out, each output fed back in",
    "many-to-many": "a sequence in, an answer at every step",
}


def landing_html(tabs) -> str:
    """The gallery's header: what the task shapes are, one card per tab with its
    diagram (the same drawing as the tab's own header), and how retraining works.

    Args:
        tabs: tab modules, each with ``TITLE``, ``SHAPE``, ``DIAGRAM`` (inputs,
            outputs) and ``SUMMARY``.
    """
    cards = "".join(
        '<div style="flex:1 1 210px;max-width:300px;border:1px solid #d5dcea;border-radius:8px;'
        'padding:8px 10px;background:#fafcff">'
        f'<div style="font-weight:600">{html.escape(t.TITLE)} '
        f'<span style="color:#b5480b;font-weight:400">&middot; {t.SHAPE}</span></div>'
        f'{diagram_svg(t.SHAPE, *t.DIAGRAM, width=210)}'
        f'<div style="font-size:0.92em">{html.escape(t.SUMMARY)}</div></div>' for t in tabs)
    shapes = " ".join(f"<b>{s}</b>: {m}." for s, m in SHAPE_MEANINGS.items())
    return ('<div style="margin-bottom:6px">'
            '<p style="margin:0 0 6px 0">A recurrent network reads and writes sequences one step at a '
            'time, carrying a hidden state (the blue boxes) from step to step. What goes in and what '
            f'comes out gives its <i>task shape</i>. {shapes} Each tab below is one shape, with a small '
            'network trained here from scratch: try it, look inside it, retrain it.</p>'
            f'<div style="display:flex;gap:10px;flex-wrap:wrap">{cards}</div>'
            '<p role="note" style="margin:8px 0 0 0;padding:6px 10px;border-left:4px solid #3b6fc4;'
            'background:#eef3fb">&#8635; <b>Retrain</b> (at the bottom of every tab) trains a fresh model '
            'just for you, on this server\'s CPU. It lasts only for this browser session: reloading or '
            'closing the page forgets it, and download it if you want to keep it. Everyone else keeps '
            'using the pretrained models, which a retrain never changes.</p></div>')


def model_card_md(title: str, rows: list[tuple[str, object]], note: str = "") -> str:
    """A model card as a Markdown table (rows whose value is None are left out)."""
    lines = [f"**{title}**", "", "| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in rows if v is not None]
    if note:
        lines += ["", note]
    return "\n".join(lines)


def training_curve(history: list[dict], metric: str, metric_label: str):
    """Training loss (left axis) and the validation metric (right axis) against step."""
    fig, ax = plt.subplots(figsize=(6, 3), dpi=90)
    steps = [h["step"] for h in history if h.get("train_loss") is not None]
    ax.plot(steps, [h["train_loss"] for h in history if h.get("train_loss") is not None],
            color="#3b6fc4", label="train loss")
    ax.set_xlabel("step")
    ax.set_ylabel("train loss", color="#3b6fc4")
    val = [(h["step"], h[metric]) for h in history if h.get(metric) is not None]
    if val:
        ax2 = ax.twinx()
        ax2.plot(*zip(*val), "o-", color="#b5480b", label=metric_label)
        ax2.set_ylabel(metric_label, color="#b5480b")
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


def retrain_panel(task, metric: str, metric_label: str, budget_note: str, higher_is_better: bool = True,
                  labels: dict[str, str] | None = None) -> gr.State:
    """The Retrain accordion: settings, Retrain/Stop, a progress bar, a live curve, a
    status line and the retrained checkpoint to download.

    Args:
        task: the rnn_core task module (``RETRAIN_OPTIONS``, ``retrain_options``, ``train``).
        labels: option name -> label shown beside its control, beside `RETRAIN_LABELS`.
        metric, metric_label: the validation metric to plot, and its name.
        higher_is_better: the metric's direction (accuracy: up; loss: down).

    Returns:
        A ``gr.State`` holding this session's retrained predictor (None until a
        retrain finishes). It lives only in this visitor's session; the shipped
        weights are never touched.
    """
    retrained = gr.State(None)
    with gr.Accordion("Retrain it yourself", open=False):
        gr.Markdown(budget_note + " The model you train lives only in this browser session; "
                    "the pretrained weights everyone else uses are never changed.")
        names = list(task.RETRAIN_OPTIONS)
        labels = {**RETRAIN_LABELS, **(labels or {})}
        controls = []
        for row in range(0, len(names), 4):
            with gr.Row():
                controls += [_control(n, task.RETRAIN_OPTIONS[n], labels.get(n, n)) for n in names[row:row + 4]]
        with gr.Row():
            start = gr.Button("Retrain", variant="primary")
            stop = gr.Button("Stop", variant="stop")
        status = gr.HTML()
        curve = gr.Plot(label="training curve", format="png")
        download = gr.File(label="your retrained checkpoint (model.safetensors + config.json)")

    def run(values: dict, request: gr.Request):
        # `values` maps each control to its value (the inputs are given as a set)
        options, notes = task.retrain_options({n: values[c] for n, c in zip(names, controls)})
        key = request.session_hash if request else "local"
        job = job_for(task.NAME, options)
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
                        line = _status_line(history, metric, metric_label, higher_is_better)
                    yield (notes_html + _progress_html(fraction, line) + _latest_sample(history),
                           training_curve(history, metric, metric_label), gr.skip(), gr.skip())
            if job.error:
                yield notes_html + _progress_html(fraction, f"Training failed: {job.error}"), gr.skip(), None, gr.skip()
                return
            folder = Path(tempfile.mkdtemp(prefix=f"rnn-gallery-{task.NAME}-"))
            job.predictor.save(folder / "checkpoint")
            archive = _zip(folder / "checkpoint", folder / f"{task.NAME}-retrained")
            r = job.result
            done = (f"<b>Done</b> ({r.stopped.replace('_', ' ')}) after {r.steps} steps in {r.elapsed:.0f} s: "
                    f"best {metric_label} {r.best.get(metric, float('nan')):.3f}. "
                    "Your model is ready in this tab, for this session only.")
            yield (notes_html + _progress_html(1.0, done, raw=True) + _latest_sample(history),
                   training_curve(history, metric, metric_label), archive, job.predictor)
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

    start.click(run, set(controls), [status, curve, download, retrained], api_name=f"{task.NAME}_retrain",
                concurrency_limit=2, concurrency_id="retrain", show_progress="hidden")
    stop.click(stop_job, None, status, api_name=f"{task.NAME}_stop", queue=False)
    return retrained


def _progress_html(fraction: float, line: str, raw: bool = False) -> str:
    """A progress bar with a status line under it (``raw``: ``line`` is already HTML)."""
    pct = max(0.0, min(1.0, fraction)) * 100
    text = line if raw else html.escape(line)
    return (f'<div style="background:#e5e7eb;border-radius:4px;height:10px;margin:4px 0">'
            f'<div style="width:{pct:.1f}%;background:#3b6fc4;height:10px;border-radius:4px"></div></div>'
            f'<div>{pct:.0f}% &middot; {text}</div>')


def _status_line(history: list[dict], metric: str, metric_label: str, higher_is_better: bool) -> str:
    if not history:
        return "Loading data and building the model..."
    last = history[-1]
    vals = [h[metric] for h in history if h.get(metric) is not None]
    best = f", best {metric_label} so far {(max if higher_is_better else min)(vals):.3f}" if vals else ""
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


def card_of(pretrained):
    """Decorator for a tab's model card: ``make(predictor) -> Markdown`` becomes
    ``card() -> Markdown`` for the shipped model, or the loader's message when it is
    missing (so a tab without weights still builds)."""
    def wrap(make):
        @functools.wraps(make)
        def card() -> str:
            try:
                predictor = pretrained()
            except gr.Error as e:
                return str(e)
            return make(predictor)
        return card
    return wrap


MODEL_CHOICES = ("pretrained", "my retrained model")


def pick_model(which: str, retrained, pretrained):
    """The model a visitor picked: their retrained one (a message if there is none
    yet) or the shipped one (``pretrained``, a `shipped_model` loader)."""
    if which == MODEL_CHOICES[1]:
        if retrained is None:
            raise gr.Error("You have no retrained model yet: open 'Retrain it yourself' below, or pick 'pretrained'.")
        return retrained
    return pretrained()


def shipped_model(task):
    """A loader for ``task``'s shipped model: loaded once, on first use; a missing or
    broken checkpoint becomes a message in the UI, not a dead tab.
    ``loader.cache_clear()`` forgets it (tests point the assets elsewhere)."""
    @functools.lru_cache(maxsize=1)
    def load():
        return task.PREDICTOR.from_pretrained()

    def loader():
        try:
            return load()
        except CheckpointError as e:
            raise gr.Error(f"The pretrained {task.NAME} model is missing ({e}); train one with "
                           f"`python -m rnn_core train {task.NAME}`.") from None

    loader.cache_clear = load.cache_clear
    return loader
