"""Training jobs by browser session: at most one per session, whichever tab (a Retrain
panel, the gradient lab) started it, so Stop reaches the right one and one visitor
cannot fill the training queue. UI plumbing only: the jobs are `rnn_core.jobs`'."""
from __future__ import annotations

import threading

import gradio as gr

from rnn_core.jobs import QueueFull, TrainingJob

from .refusal import Refusal

_jobs: dict[str, TrainingJob] = {}
_jobs_lock = threading.Lock()


def session_key(request: gr.Request | None) -> str:
    """The key of a browser session's job slot ("local" outside a served app)."""
    return request.session_hash if request else "local"


def claim_job(key: str, job: TrainingJob, what: str = "A retrain") -> TrainingJob:
    """Start ``job`` in session ``key``'s slot; else `Refusal` (the session runs a
    training already, named ``what``, or the training queue is full)."""
    with _jobs_lock:
        mine = _jobs.get(key)
        if mine is not None and not mine.done.is_set():
            raise Refusal(f"{what} ({mine.task}) is already running in this session: stop it first.")
        try:
            _jobs[key] = job.start()
        except QueueFull as e:
            raise Refusal(str(e)) from None
    return job


def release_job(key: str, job: TrainingJob) -> None:
    """Stop ``job`` (a closed tab must not leave training running); free ``key``'s slot."""
    job.stop()
    with _jobs_lock:
        if _jobs.get(key) is job:
            del _jobs[key]


def stop_session_job(request: gr.Request | None, task: str) -> None:
    """Stop the session's job if it is ``task``'s (never another tab's training)."""
    job = _jobs.get(session_key(request))
    if job is not None and job.task == task:
        job.stop()
