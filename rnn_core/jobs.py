"""Training beside a server: in a child process at low priority, so a UI can poll
progress and stop it while visitors' requests keep the CPU they need.

The UI (apps/) never touches torch: it starts a `TrainingJob` with `train_task`
(a task's name and options), polls `updates()` for progress reports, and reads the
result (a predictor living only in that visitor's session) when it is done.

Why a process and not a thread: a training thread shares the server's GIL, and on
2 vCPU visitors' latency nearly doubled beside one (p95 x1.7-1.9 in
``python -m rnn_core bench load``); a lower thread priority hardly helped (x1.5-1.7),
because the contention is for the GIL, not the cores. A child process has its own
interpreter, and its nice value makes the kernel serve visitors first. A crash in
training (out of memory, say) ends the child, never the server.
"""
from __future__ import annotations

import contextlib
import functools
import multiprocessing
import os
import pickle
import queue
import sys
import threading
import time
import traceback
from typing import Callable

import torch

from .train import Progress

# Only this many trainings run at once in one server: each takes a core, and
# visitors' predictions must keep running beside them.
MAX_CONCURRENT = 1
# At most this many more wait their turn (first come, first served); a retrain asked
# for beyond that is refused at once with a message, so a flood of retrain requests
# can hold neither the training slot for hours nor the server's queue and threads.
MAX_WAITING = int(os.environ.get("RNN_GALLERY_MAX_WAITING", 3))
# A retrain that has to wait is capped at this many minutes, so the queue moves.
QUEUED_MAX_MINUTES = 3.0
_turns = threading.Condition()
_running: list["TrainingJob"] = []
_waiting: list["TrainingJob"] = []


class QueueFull(RuntimeError):
    """Too many retrains are running or waiting already (the message is for the visitor)."""


def busy() -> bool:
    """True when a new retrain would have to wait for its turn."""
    with _turns:
        return len(_running) >= MAX_CONCURRENT or bool(_waiting)


def cap_if_queued(options: dict) -> tuple[dict, str | None]:
    """``options`` with ``max_minutes`` capped at `QUEUED_MAX_MINUTES` when the retrain
    would have to wait for its turn (`busy`), so the line moves; and the note that
    tells the visitor so (None when nothing was capped)."""
    if not (busy() and options.get("max_minutes", 0) > QUEUED_MAX_MINUTES):
        return options, None
    return {**options, "max_minutes": QUEUED_MAX_MINUTES}, (
        f"Other visitors' retrains are running or waiting, so this one is capped at {QUEUED_MAX_MINUTES:g} minutes.")


# The child's nice value (0 = the server's own priority; 19 = only idle CPU).
TRAIN_NICE = int(os.environ.get("RNN_GALLERY_TRAIN_NICE", 10))
# "spawn": a fresh interpreter. Forking a server that runs threads (uvicorn, Gradio's
# workers, torch's pool) can copy a lock another thread holds and hang the child.
_CTX = multiprocessing.get_context("spawn")


def share_cores() -> None:
    """Set the server's thread policy: every request (and the training process) runs
    torch on one intra-op thread.

    Why: on 2 vCPU (the Spaces free tier) torch's default of one thread per core makes
    concurrent requests fight over both cores, and these small recurrent networks gain
    little from a second thread even for a visitor alone on the server (measured back
    to back: 400 characters of text 153-205 ms on one thread, 160-167 ms on two; 16
    bars of melody 68-109 vs 67 ms; the sentiment tab's answer 17 vs 12 ms), while the
    speech BiGRU is 2-4x slower and erratic with two (``python -m rnn_core bench
    speech`` prints both).
    Call it in the main thread before serving: threads started later inherit it.
    """
    torch.set_num_threads(1)


def train_task(task_name: str, options: dict, on_progress: Callable, stop) -> tuple:
    """Train ``task_name`` with ``options``: what a `TrainingJob` runs (see `job_for`)."""
    from .tasks import TASKS

    return TASKS[task_name].train(options, on_progress=on_progress, stop=stop)


def job_for(task_name: str, options: dict) -> "TrainingJob":
    """A (not yet started) job that trains ``task_name`` with ``options``."""
    return TrainingJob(functools.partial(train_task, task_name, options), task=task_name)


class TrainingJob:
    """One training run in a child process, watched by a daemon thread.

    Args:
        train_fn: ``(on_progress, stop) -> (predictor, TrainResult)``; it runs in the
            child, so it must pickle (a module-level function or a partial of one).
        task: the task it trains, if any (what a visitor's Stop button checks).
    """

    def __init__(self, train_fn: Callable, task: str | None = None):
        self._train_fn = train_fn
        self.task = task
        self._queue: queue.Queue[Progress] = queue.Queue()
        self.stop_event = _CTX.Event()  # shared with the child
        self.done = threading.Event()
        self.predictor = None
        self.result = None
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "TrainingJob":
        """Join the queue for a training slot and start as soon as it is this job's turn.

        Raises:
            QueueFull: `MAX_WAITING` retrains are waiting already.
        """
        with _turns:
            if len(_running) >= MAX_CONCURRENT and len(_waiting) >= MAX_WAITING:
                raise QueueFull(f"{len(_running) + len(_waiting)} retrains are running or waiting already, "
                                "the most this server takes: please try again in a few minutes.")
            _waiting.append(self)
        self._thread.start()
        return self

    @property
    def waiting(self) -> bool:
        """True while the job waits for its turn."""
        with _turns:
            return self in _waiting

    @property
    def ahead(self) -> int:
        """How many retrains will run before this one (0 once it runs or has ended)."""
        with _turns:
            return _waiting.index(self) + len(_running) if self in _waiting else 0

    def stop(self) -> None:
        """Ask the loop to end after its current step (it keeps the best weights)."""
        self.stop_event.set()

    def _run(self) -> None:
        with _turns:  # first come, first served: wait until first in line and a slot is free
            while not (_waiting[0] is self and len(_running) < MAX_CONCURRENT):
                if self.stop_event.is_set():
                    _waiting.remove(self)
                    _turns.notify_all()
                    self.error = "Stopped before it started (another training was running)."
                    self.done.set()
                    return
                _turns.wait(timeout=0.5)
            _waiting.remove(self)
            _running.append(self)
        try:
            self._train_in_child()
        except Exception as e:  # reported to the visitor, never raised into the server
            self.error = f"{type(e).__name__}: {e}"
            traceback.print_exc()
        finally:
            with _turns:
                _running.remove(self)
                _turns.notify_all()
            self.done.set()

    def _train_in_child(self) -> None:
        reports = _CTX.Queue()
        child = _CTX.Process(target=_child, args=(self._train_fn, reports, self.stop_event, os.getpid()),
                             daemon=True, name="rnn-gallery-training")
        with _main_script_not_rerun(self._train_fn):
            child.start()
        try:
            while True:
                try:
                    kind, value = reports.get(timeout=0.5)
                except queue.Empty:
                    if not child.is_alive():  # killed, or crashed without a word
                        self.error = f"The training process ended unexpectedly (exit code {child.exitcode})."
                        return
                    continue
                if kind == "progress":
                    self._queue.put(value)
                elif kind == "done":
                    self.predictor, self.result = pickle.loads(value)
                    return
                else:
                    self.error = value
                    return
        finally:
            child.join(timeout=30)
            if child.is_alive():
                child.kill()

    def finished(self) -> bool:
        """True once the run has ended and every progress report has been read."""
        return self.done.is_set() and self._queue.empty()

    def updates(self, timeout: float = 0.5) -> list[Progress]:
        """Progress reports since the last call (waits up to ``timeout`` for the first)."""
        out = []
        try:
            out.append(self._queue.get(timeout=timeout))
            while True:
                out.append(self._queue.get_nowait())
        except queue.Empty:
            pass
        return out


@contextlib.contextmanager
def _main_script_not_rerun(train_fn: Callable):
    """While a child is spawned, hide the served script's path from multiprocessing.

    Why: "spawn" re-runs ``__main__``'s file in every child (as ``__mp_main__``), and
    app.py imports gradio and every tab: measured 5.1 s of a gradient-lab run's 6.8 s
    before its first step (issue 28). The child needs only ``train_fn``'s own module,
    which pickle imports; a ``train_fn`` defined in the script itself still needs it.
    """
    main = sys.modules["__main__"]
    path = getattr(main, "__file__", None)
    fn = train_fn.func if isinstance(train_fn, functools.partial) else train_fn
    if path is None or getattr(main, "__spec__", None) is not None or fn.__module__ == "__main__":
        yield
        return
    del main.__file__
    try:
        yield
    finally:
        main.__file__ = path


def _child(train_fn: Callable, reports, stop, parent_pid: int) -> None:
    """The training process: low priority, one torch thread; it reports progress and
    the result (predictor and TrainResult, pickled) through ``reports``."""
    try:
        os.nice(TRAIN_NICE)
    except (AttributeError, OSError):  # not allowed here: normal priority
        pass
    share_cores()

    def watch_parent():  # the server died: end now rather than train for nobody
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        # Not stop.set(): the run may be loading data (no step checks the flag), and a
        # result put on the queue afterwards blocks this process's exit for ever (the
        # queue's pipe is full and its only reader is this process's own copy). Nothing
        # here is worth saving for a server that is gone.
        os._exit(0)

    threading.Thread(target=watch_parent, daemon=True).start()
    try:
        predictor, result = train_fn(lambda p: reports.put(("progress", p)), stop)
        # as bytes: a queue would pass the tensors as shared memory, whose file
        # descriptors die with this process before the server has read them (and
        # these bytes go from this process to its own parent, never to a file)
        reports.put(("done", pickle.dumps((predictor, result))))
    except Exception as e:
        traceback.print_exc()
        reports.put(("error", f"{type(e).__name__}: {e}"))
