"""Training in a background thread, so a UI can poll progress and stop it.

The UI (apps/) never touches torch: it starts a `TrainingJob` with a task's
``train`` function, polls `updates()` for progress reports, and reads the result
(a predictor living only in that visitor's session) when it is done.
"""
from __future__ import annotations

import queue
import threading
import traceback
from typing import Callable

import torch

from .train import Progress

# Only this many trainings run at once in one process: each one wants every core,
# and visitors' predictions must keep running beside them.
MAX_CONCURRENT = 1
_slots = threading.BoundedSemaphore(MAX_CONCURRENT)


def share_cores() -> None:
    """Set the server's thread policy: every request and the training job run torch
    on one intra-op thread each.

    Why: on 2 vCPU (the Spaces free tier) torch's default of one thread per core makes
    concurrent requests and a training job fight over both cores; the small recurrent
    networks here gain little from a second thread anyway (the speech BiGRU is 2-4x
    slower and erratic with two: ``python -m rnn_core bench speech`` prints both). With
    one thread each, a retrain takes one core and visitors keep the other.
    Call it in the main thread before serving: threads started later inherit it.
    """
    torch.set_num_threads(1)


class TrainingJob:
    """One training run in a daemon thread.

    Args:
        train_fn: ``(on_progress, stop) -> (predictor, TrainResult)``.
    """

    def __init__(self, train_fn: Callable):
        self._train_fn = train_fn
        self._queue: queue.Queue[Progress] = queue.Queue()
        self.stop_event = threading.Event()
        self.done = threading.Event()
        self.predictor = None
        self.result = None
        self.error: str | None = None
        self.waiting = False
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "TrainingJob":
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the loop to end after its current step (it keeps the best weights)."""
        self.stop_event.set()

    def _run(self) -> None:
        self.waiting = not _slots.acquire(blocking=False)
        if self.waiting:
            # Another visitor is training: wait for the slot, unless stopped meanwhile.
            while not _slots.acquire(timeout=0.5):
                if self.stop_event.is_set():
                    self.error = "Stopped before it started (another training was running)."
                    self.done.set()
                    return
            self.waiting = False
        try:
            self.predictor, self.result = self._train_fn(self._queue.put, self.stop_event)
        except Exception as e:  # reported to the visitor, never raised into the server
            self.error = f"{type(e).__name__}: {e}"
            traceback.print_exc()
        finally:
            _slots.release()
            self.done.set()

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
