"""The Retrain panel every tab has: settings (from the task's `TaskSpec`),
Retrain/Stop, a progress bar, a live curve and the visitor's checkpoint to download.
Training itself runs in a child process (`rnn_core.jobs`); the model it makes lives
only in that visitor's session. UI and event wiring only: no torch here."""
from __future__ import annotations

import html
import os
import shutil
import time
import zipfile
from pathlib import Path

import gradio as gr
import matplotlib

matplotlib.use("Agg")  # no display on servers
import matplotlib.pyplot as plt  # noqa: E402

from rnn_core.checkpoint import CheckpointError  # noqa: E402
from rnn_core.jobs import QUEUED_MAX_MINUTES, busy, job_for  # noqa: E402
from rnn_core.metrics import Metric  # noqa: E402
from rnn_core.options import Option  # noqa: E402
from rnn_core.tasks.spec import TaskSpec  # noqa: E402

from .job_slots import claim_job, release_job, session_key, stop_session_job  # noqa: E402
from .scratch import new_folder  # noqa: E402


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
    retrained = gr.State(None, time_to_live=STATE_SECONDS)
    candidate = gr.State(None, time_to_live=STATE_SECONDS)  # a finished run that was not better
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
            stop = gr.Button("Stop retraining", variant="stop")
        status = gr.HTML()
        use_new = gr.Button("Use this run's model anyway", visible=False)
        curve = gr.Plot(label="training curve", format="png")
        download = gr.File(label="your retrained checkpoint (model.safetensors + config.json)")
        upload = gr.File(label=f"or bring back a checkpoint you downloaded here before (.zip, "
                               f"{MAX_CHECKPOINT_MB} MB at most)", file_types=[".zip"], type="filepath")

    def pretrained_score():
        try:
            return best_score(pretrained(), metric) if pretrained else None
        except gr.Error:  # no shipped model: nothing to compare with
            return None

    def run(values: dict, request: gr.Request):
        # `values` maps each control (and the states) to its value (the inputs are given as a set)
        options, notes = spec.retrain_options({n: values[c] for n, c in zip(names, controls)})
        if extra_options is not None:
            options.update(extra_options(*(values[c] for c in extra_inputs)))
        previous = values[retrained]
        key = session_key(request)
        if busy() and options.get("max_minutes", 0) > QUEUED_MAX_MINUTES:
            options["max_minutes"] = QUEUED_MAX_MINUTES
            notes.append(f"Other visitors' retrains are running or waiting, so this one is capped at "
                         f"{QUEUED_MAX_MINUTES:g} minutes.")
        job = claim_job(key, job_for(spec.name, options))
        notes_html = "".join(f"<div>&#9888; {html.escape(n)}</div>" for n in notes)
        history, fraction, last_yield, last_curve, drawn = [], 0.0, 0.0, 0.0, 0
        hide = gr.update(visible=False)
        try:
            yield (notes_html + progress_html(0, "Loading data and building the model..."), None, None,
                   gr.skip(), None, hide)
            while not job.finished():
                for p in job.updates(timeout=0.3):
                    history.append({"step": p.step, "train_loss": p.train_loss, **(p.val or {})})
                    fraction = p.fraction
                if time.monotonic() - last_yield > 1.0:
                    last_yield = time.monotonic()
                    if job.waiting:
                        ahead = job.ahead
                        line = f"Waiting for the training slot: {ahead} retrain{'s' * (ahead != 1)} ahead of you..."
                    elif job.stop_event.is_set():
                        line = "Stopping after the current step; the best weights so far are kept..."
                    else:
                        line = _status_line(history, metric)
                    # the curve only when it has news, every CURVE_SECONDS at most: drawing it is
                    # most of what a waiting or running retrain costs the server
                    curve_now = len(history) > drawn and time.monotonic() - last_curve > CURVE_SECONDS
                    if curve_now:
                        last_curve, drawn = time.monotonic(), len(history)
                    yield (notes_html + progress_html(fraction, line) + _latest_sample(history),
                           training_curve(history, metric) if curve_now else gr.skip(),
                           gr.skip(), gr.skip(), gr.skip(), gr.skip())
            if job.error:
                yield (notes_html + progress_html(fraction, f"Training failed: {job.error}"), gr.skip(), None,
                       gr.skip(), gr.skip(), gr.skip())
                return
            folder = new_folder(f"{spec.name}-retrained-")
            job.predictor.save(folder / "checkpoint")
            archive = _zip(folder / "checkpoint", folder / f"{spec.name}-retrained")
            shutil.rmtree(folder / "checkpoint", ignore_errors=True)  # the zip is what is offered
            r = job.result
            new, old = best_score(job.predictor, metric), best_score(previous, metric)
            keep_old = keeps_earlier(metric, old, new)  # old is None without an earlier retrain
            how = (f"stopped at {fraction:.0%}" if r.stopped == "stopped" else r.stopped.replace("_", " "))
            line = (f"<b>Done</b> ({how}) after {r.steps} steps in {r.elapsed:.0f} s: best {metric.label} "
                    f"{r.best.get(metric.key, float('nan')):.3f}. ")
            line += ("It is not better than your earlier retrained model, so that one stays in use."
                     if keep_old else "Your model is ready in this tab, for this session only.")
            table = comparison_html(metric, [("pretrained", pretrained_score()),
                                             ("your earlier retrain", old),
                                             ("this run", new)])
            bar = fraction if r.stopped == "stopped" else 1.0
            yield (notes_html + progress_html(bar, line, raw=True) + table + _latest_sample(history),
                   training_curve(history, metric), archive,
                   previous if keep_old else job.predictor, job.predictor if keep_old else None,
                   gr.update(visible=keep_old))
        finally:
            release_job(key, job)

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
    start.click(run, set(controls) | {retrained} | set(extra_inputs or ()),
                [status, curve, download, retrained, candidate, use_new],
                api_name=f"{spec.name}_retrain", concurrency_limit=None, show_progress="hidden")
    stop.click(stop_job, None, status, api_name=f"{spec.name}_stop", queue=False)
    use_new.click(take_candidate, candidate, [retrained, candidate, use_new, status], queue=False,
                  api_visibility="private")
    upload.upload(bring_back, upload, [retrained, status], api_name=f"{spec.name}_upload_checkpoint",
                  concurrency_id="predict")
    return retrained


MAX_CHECKPOINT_MB = 12  # the shipped checkpoints are under 10 MB; a retrained one is smaller
CHECKPOINT_FILES = {"model.safetensors", "config.json"}


def checkpoint_from_upload(spec: TaskSpec, path) -> object:
    """The predictor in a zip a visitor uploads (what the panel's download gives):
    exactly `CHECKPOINT_FILES`, each at most `MAX_CHECKPOINT_MB` unpacked, holding a
    model of ``spec``'s task whose weights fit its config.

    Raises:
        gr.Error: with a one-sentence reason, for anything else.
    """
    if not path:
        raise gr.Error("Choose the .zip you downloaded from a retrain first.")
    limit = MAX_CHECKPOINT_MB * 2**20
    if os.path.getsize(path) > limit:
        raise gr.Error(f"That file is over {MAX_CHECKPOINT_MB} MB: a checkpoint of this gallery is smaller.")
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            if {e.filename for e in entries} != CHECKPOINT_FILES or len(entries) != len(CHECKPOINT_FILES):
                raise gr.Error("The zip must hold model.safetensors and config.json and nothing else, "
                               "as the retrain panel's download does.")
            if any(e.file_size > limit for e in entries):  # unpacked sizes, read before unpacking
                raise gr.Error(f"A file in that zip unpacks to over {MAX_CHECKPOINT_MB} MB.")
            folder = new_folder(f"{spec.name}-upload-")
            archive.extractall(folder)  # the names are exactly the two above: no paths
    except zipfile.BadZipFile:
        raise gr.Error("That is not a zip file: upload the .zip the retrain panel gave you.") from None
    try:
        return spec.predictor.from_pretrained(folder)
    except CheckpointError as e:
        reason = str(e).replace(str(folder), "the upload")  # the server's folders are not the visitor's business
        raise gr.Error(f"That is not a {spec.name} checkpoint this gallery can use: {reason}.") from None
    except Exception:  # noqa: BLE001 -- a malformed config (its encoder, say) must not crash the server
        raise gr.Error(f"That is not a {spec.name} checkpoint this gallery can use.") from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


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


def _zip(folder: Path, base: Path) -> str:
    return shutil.make_archive(str(base), "zip", folder)
