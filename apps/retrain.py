"""The Retrain panel every tab has: settings (from the task's `TaskSpec`),
Retrain/Stop, a progress bar, a live curve and the visitor's checkpoint to download.
Training itself runs in a child process (`rnn_core.jobs`); the model it makes lives
only in that visitor's session. UI and event wiring only: no torch here."""
from __future__ import annotations

import html
import time
from dataclasses import dataclass, field, fields

import gradio as gr
import matplotlib

matplotlib.use("Agg")  # no display on servers
import matplotlib.pyplot as plt  # noqa: E402

from rnn_core.jobs import cap_if_queued, job_for  # noqa: E402
from rnn_core.metrics import Metric  # noqa: E402
from rnn_core.options import Option  # noqa: E402
from rnn_core.stopping import StopReason  # noqa: E402
from rnn_core.tasks.spec import TaskSpec  # noqa: E402

from .checkpoint_zip import MAX_CHECKPOINT_MB, checkpoint_from_upload, checkpoint_zip  # noqa: E402
from .job_slots import claim_job, release_job, session_key, stop_session_job  # noqa: E402


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


# How long a session keeps its retrained model after the retrain (Gradio frees the
# state then, and when the tab is closed): a long-running server must not keep every
# visitor's model forever.
STATE_SECONDS = 2 * 3600
CURVE_SECONDS = 3.0  # the live training curve is redrawn at most this often


def _control(name: str, opt: Option, label: str):
    if opt.choices is not None:
        return gr.Radio(list(opt.choices), value=opt.default, label=label)
    if isinstance(opt.default, bool):
        return gr.Checkbox(value=opt.default, label=label)
    if isinstance(opt.default, int):
        return gr.Slider(opt.low, opt.high, value=opt.default, step=1, label=label)
    # no bounds on the box: `retrain_options` clamps out-of-range values and says so
    return gr.Number(value=opt.default, label=f"{label} ({opt.low:g}-{opt.high:g})")


# Labels of the retrain settings the tabs share; a tab may add or override some.
RETRAIN_LABELS = {"cell": "cell", "bidirectional": "bidirectional", "hidden": "hidden units",
                  "layers": "layers", "lr": "learning rate", "epochs": "epochs",
                  "max_minutes": "time budget (minutes)", "embed": "embedding size"}


def best_score(predictor, metric: Metric) -> float | None:
    """The validation figure a checkpoint's training reached (its config.json)."""
    if predictor is None:
        return None
    value = (predictor.config.get("result") or {}).get("best", {}).get(metric.key)
    return float(value) if isinstance(value, (int, float)) else None


def keeps_earlier(metric: Metric, earlier: float | None, new: float | None) -> bool:
    """True when a new retrain's figure is not better than the earlier retrain's (so
    the earlier model stays in use); a run with no figure never replaces one."""
    if earlier is None:
        return False
    return new is None or not metric.better(new, earlier)


def comparison_html(metric: Metric, rows: list[tuple[str, float | None]]) -> str:
    """The models' validation figures side by side (a row per model that has one)."""
    cells = "".join(f"<tr><td>{html.escape(name)}</td><td style='text-align:right'>{v:.3f}</td></tr>"
                    for name, v in rows if v is not None)
    return (f"<table style='margin-top:6px'><tr><th style='text-align:left'>model</th>"
            f"<th>{html.escape(metric.label)}</th></tr>{cells}</table>") if cells else ""


@dataclass
class PanelUpdate:
    """One update of the retrain panel, an output by name; ``gr.skip()`` leaves one as it is."""
    status: object = field(default_factory=gr.skip)     # progress bar, status line, figures (HTML)
    curve: object = field(default_factory=gr.skip)      # the training curve
    download: object = field(default_factory=gr.skip)   # the retrained checkpoint's zip
    retrained: object = field(default_factory=gr.skip)  # the session's retrained predictor
    candidate: object = field(default_factory=gr.skip)  # a finished run that was not better
    use_new: object = field(default_factory=gr.skip)    # the button that takes the candidate anyway

    def values(self) -> tuple:
        """The values in field order, the order of `Panel.outputs` (what a handler returns)."""
        return tuple(getattr(self, f.name) for f in fields(self))


@dataclass
class Panel:
    """The retrain panel's components."""
    controls: dict      # retrain setting name -> its control, in `TaskSpec.retrain_bounds` order
    start: gr.Button
    stop: gr.Button
    upload: gr.File
    status: gr.HTML
    curve: gr.Plot
    download: gr.File
    retrained: gr.State
    candidate: gr.State
    use_new: gr.Button

    def outputs(self) -> list:
        """The components a `PanelUpdate` sets, in its field order."""
        return [getattr(self, f.name) for f in fields(PanelUpdate)]


@dataclass
class RunLog:
    """What a retrain has reported so far: a row per report, and how far it has gone."""
    history: list[dict] = field(default_factory=list)
    fraction: float = 0.0

    def read(self, job) -> None:
        """Add the job's reports since the last read (waiting up to 0.3 s for one)."""
        for p in job.updates(timeout=0.3):
            self.history.append({"step": p.step, "train_loss": p.train_loss, **(p.val or {})})
            self.fraction = p.fraction


def retrain_panel(spec: TaskSpec, budget_note: str, labels: dict[str, str] | None = None,
                  pretrained=None, extra_inputs: list | None = None, extra_options=None) -> gr.State:
    """The Retrain accordion: settings, Retrain/Stop, a progress bar, a live curve, a
    status line and the retrained checkpoint to download.

    A retrain replaces the session's earlier retrained model only when its validation
    figure is better; otherwise the earlier one stays and a button offers the new
    one anyway. Retrains queue for the server's training slot (`rnn_core.jobs`): the
    status says how many are ahead; a full queue refuses at once.

    Args:
        spec: the task: what a visitor may set (``retrain_bounds``), how it trains,
            and the validation ``metric`` the curve and status show.
        budget_note: a sentence on what a retrain with the defaults does and costs.
        labels: option name -> label shown beside its control, beside `RETRAIN_LABELS`.
        pretrained: the tab's loader of the shipped model, whose figure is shown
            beside the retrained ones.
        extra_inputs, extra_options: components of the tab the retrain also reads
            (the forecasting tab's series), and ``(*their values) -> options`` for
            ``train``; it raises ``gr.Error`` for values it cannot train on.

    Returns:
        A ``gr.State`` holding this session's retrained predictor (None until a
        retrain finishes). It lives only in this visitor's session (for at most
        `STATE_SECONDS`); the shipped weights are never touched.
    """
    panel = _layout(spec, budget_note, {**RETRAIN_LABELS, **(labels or {})})
    _wire(spec, panel, pretrained, list(extra_inputs or ()), extra_options)
    return panel.retrained


def _layout(spec: TaskSpec, budget_note: str, labels: dict[str, str]) -> Panel:
    """The panel's components, in a closed accordion."""
    retrained = gr.State(None, time_to_live=STATE_SECONDS)
    candidate = gr.State(None, time_to_live=STATE_SECONDS)  # a finished run that was not better
    with gr.Accordion("Retrain it yourself", open=False):
        gr.Markdown(budget_note + " The model you train lives only in this browser session; "
                    "the pretrained weights everyone else uses are never changed.")
        names = list(spec.retrain_bounds)
        controls = {}
        for row in range(0, len(names), 4):
            with gr.Row():
                controls.update({n: _control(n, spec.retrain_bounds[n], labels.get(n, n)) for n in names[row:row + 4]})
        with gr.Row():
            start = gr.Button("Retrain", variant="primary")
            stop = gr.Button("Stop retraining", variant="stop")
        status = gr.HTML()
        use_new = gr.Button("Use this run's model anyway", visible=False)
        curve = gr.Plot(label="training curve", format="png")
        download = gr.File(label="your retrained checkpoint (model.safetensors + config.json)")
        upload = gr.File(label=f"or bring back a checkpoint you downloaded here before (.zip, "
                               f"{MAX_CHECKPOINT_MB} MB at most)", file_types=[".zip"], type="filepath")
    return Panel(controls, start, stop, upload, status, curve, download, retrained, candidate, use_new)


def _wire(spec: TaskSpec, panel: Panel, pretrained, extra_inputs: list, extra_options) -> None:
    """The panel's events: Retrain, Stop, take the candidate, bring a checkpoint back."""
    metric = spec.metric

    def run(values: dict, request: gr.Request):
        # `values` maps each control (and the states) to its value (the inputs are given as a set)
        yield from _retrain(spec, panel, values, session_key(request), pretrained, extra_inputs, extra_options)

    def stop_job(request: gr.Request):
        stop_session_job(request, spec.name)  # the running retrain's next status update says so
        return gr.skip()

    def bring_back(path):
        predictor = checkpoint_from_upload(spec, path)
        score = best_score(predictor, metric)
        figure = f" (its training reached {metric.label} {score:.3f})" if score is not None else ""
        return predictor, f"<div>Loaded your checkpoint{figure}: it is your retrained model now.</div>"

    def take_candidate(new):
        if new is None:
            return gr.skip(), None, gr.update(visible=False), gr.skip()
        return new, None, gr.update(visible=False), "<div>Now using this run's model.</div>"

    # Not in Gradio's queue: a retrain returns at once when the training queue is full,
    # so waiting retrains never hold the queue's places or its threads (`jobs.MAX_WAITING`).
    panel.start.click(run, set(panel.controls.values()) | {panel.retrained} | set(extra_inputs), panel.outputs(),
                      api_name=f"{spec.name}_retrain", concurrency_limit=None, show_progress="hidden")
    panel.stop.click(stop_job, None, panel.status, api_name=f"{spec.name}_stop", queue=False)
    panel.use_new.click(take_candidate, panel.candidate, [panel.retrained, panel.candidate, panel.use_new,
                                                          panel.status], queue=False, api_visibility="private")
    panel.upload.upload(bring_back, panel.upload, [panel.retrained, panel.status],
                        api_name=f"{spec.name}_upload_checkpoint", concurrency_id="predict")


def _retrain(spec: TaskSpec, panel: Panel, values: dict, key: str, pretrained, extra_inputs: list,
             extra_options):
    """The Retrain button's handler: the panel's outputs at the start, about each second
    while the job waits or trains, and at its end (see `_follow`, `_finish`)."""
    options, notes = _options(spec, panel, values, extra_inputs, extra_options)
    previous = values[panel.retrained]
    job = claim_job(key, job_for(spec.name, options))
    notes_html = "".join(f"<div>&#9888; {html.escape(n)}</div>" for n in notes)
    log = RunLog()
    try:
        yield PanelUpdate(status=notes_html + progress_html(0, "Loading data and building the model..."),
                          curve=None, download=None, candidate=None, use_new=gr.update(visible=False)).values()
        for update in _follow(job, spec.metric, notes_html, log):
            yield update.values()
        yield _finish(spec, job, log, previous, notes_html, pretrained).values()
    finally:
        release_job(key, job)


def _options(spec: TaskSpec, panel: Panel, values: dict, extra_inputs: list, extra_options) -> tuple[dict, list[str]]:
    """The training options a visitor's settings give, and notes on what was changed
    (clamped to the task's bounds, capped while others wait: `rnn_core.jobs.cap_if_queued`)."""
    options, notes = spec.retrain_options({n: values[c] for n, c in panel.controls.items()})
    if extra_options is not None:
        options.update(extra_options(*(values[c] for c in extra_inputs)))
    options, capped = cap_if_queued(options)
    if capped:
        notes.append(capped)
    return options, notes


def _follow(job, metric: Metric, notes_html: str, log: RunLog):
    """`PanelUpdate`s while ``job`` waits or trains, about one a second, reading its
    reports into ``log`` until every report of the finished job is read."""
    last_yield, last_curve, drawn = 0.0, 0.0, 0
    while not job.finished():
        log.read(job)
        if time.monotonic() - last_yield <= 1.0:
            continue
        last_yield = time.monotonic()
        if job.waiting:
            ahead = job.ahead
            line = f"Waiting for the training slot: {ahead} retrain{'s' * (ahead != 1)} ahead of you..."
        elif job.stop_event.is_set():
            line = "Stopping after the current step; the best weights so far are kept..."
        else:
            line = _status_line(log.history, metric)
        # the curve only when it has news, every CURVE_SECONDS at most: drawing it is
        # most of what a waiting or running retrain costs the server
        curve_now = len(log.history) > drawn and time.monotonic() - last_curve > CURVE_SECONDS
        if curve_now:
            last_curve, drawn = time.monotonic(), len(log.history)
        yield PanelUpdate(status=notes_html + progress_html(log.fraction, line) + _latest_sample(log.history),
                          curve=training_curve(log.history, metric) if curve_now else gr.skip())


def _finish(spec: TaskSpec, job, log: RunLog, previous, notes_html: str, pretrained) -> PanelUpdate:
    """The panel once ``job`` has ended: why and with what figure, beside the shipped
    model's (``pretrained``: its loader) and the session's earlier retrain's, and the
    checkpoint to download. The new model is the session's only when it is better
    than ``previous``."""
    metric, fraction = spec.metric, log.fraction
    if job.error:
        return PanelUpdate(status=notes_html + progress_html(fraction, f"Training failed: {job.error}"), download=None)
    archive = checkpoint_zip(spec, job.predictor)
    r = job.result
    new, old = best_score(job.predictor, metric), best_score(previous, metric)
    keep_old = keeps_earlier(metric, old, new)  # old is None without an earlier retrain
    how = (f"stopped at {fraction:.0%}" if r.stopped == StopReason.STOPPED else r.stopped.replace("_", " "))
    line = (f"<b>Done</b> ({how}) after {r.steps} steps in {r.elapsed:.0f} s: best {metric.label} "
            f"{r.best.get(metric.key, float('nan')):.3f}. ")
    line += ("It is not better than your earlier retrained model, so that one stays in use."
             if keep_old else "Your model is ready in this tab, for this session only.")
    table = comparison_html(metric, [("pretrained", _shipped_score(pretrained, metric)), ("your earlier retrain", old),
                                     ("this run", new)])
    bar = fraction if r.stopped == StopReason.STOPPED else 1.0
    return PanelUpdate(status=notes_html + progress_html(bar, line, raw=True) + table + _latest_sample(log.history),
                       curve=training_curve(log.history, metric), download=archive,
                       retrained=previous if keep_old else job.predictor,
                       candidate=job.predictor if keep_old else None, use_new=gr.update(visible=keep_old))


def _shipped_score(pretrained, metric: Metric) -> float | None:
    """The shipped model's validation figure (None without a loader or a shipped model)."""
    try:
        return best_score(pretrained(), metric) if pretrained else None
    except gr.Error:  # no shipped model: nothing to compare with
        return None


def progress_html(fraction: float, line: str, raw: bool = False) -> str:
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
