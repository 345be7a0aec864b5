"""Many visitors at once: their streams' network steps, batched together.

On a CPU one recurrent step costs nearly the same for one sequence as for dozens
(the matrix products are too small to fill the cores, and the Python around each
step costs as much as the step), so the streams that ask for a step while one runs
wait for it and then go through together in the next: `SharedSteps`, built on
`MicroBatcher`. Measured (issue 28): 8 text streams at once got 151 characters/s each
stepping alone, since their steps queue on the interpreter one by one.

Whole-sentence predictions (sentiment) are not batched this way: each is already a
batch of 2n+1 sequences, and joining visitors' batches measured slower than letting
two requests run on the two cores side by side (258 against 302 predictions/s). `MicroBatcher` does that with no timer and no thread of its own: the first
caller runs a batch, callers arriving meanwhile queue, and the head of the queue runs
the next batch holding everyone queued behind it. A request alone runs at once, as
it would unbatched.

``RNN_GALLERY_BATCHING=off`` turns it off (each caller runs its own items), so that
``bench load`` can measure the server both ways in one run.
"""
from __future__ import annotations

import contextlib
import os
import threading
from typing import Callable, Sequence

import torch


def batching_on() -> bool:
    """Whether predictors batch concurrent requests (``RNN_GALLERY_BATCHING`` is not ``off``)."""
    return os.environ.get("RNN_GALLERY_BATCHING", "on").strip().lower() not in ("off", "0", "no")


class _Job:
    def __init__(self, items: Sequence):
        self.items, self.results, self.error = items, None, None
        self.woken = threading.Event()  # set when the results are in, or when it must lead
        self.lead = False


class MicroBatcher:
    """``batcher(items) -> results`` as ``fn(items)``, but items of concurrent calls
    go through ``fn`` together (up to ``max_items`` a batch). ``fn`` maps a list of
    items to a list of results of the same length; it must not depend on which other
    items share its batch (a padded, length-masked forward pass does not)."""

    WAIT_S = 0.002

    def __init__(self, fn: Callable[[list], list], max_items: int = 2048):
        self.fn, self.max_items = fn, max_items
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._queue: list[_Job] = []
        self.expected = 0  # callers known to be on their way (open streams): a batch waits for them
        self._busy = False
        self.batches = 0  # how many forward passes ran, and for how many calls: the gain
        self.calls = 0

    def __call__(self, items: Sequence) -> list:
        if not batching_on():
            return self.fn(list(items))
        job = _Job(items)
        with self._lock:
            self._queue.append(job)
            self._arrived.notify()
            lead = not self._busy
            self._busy = True
        if not lead:
            job.woken.wait()
            lead = job.lead  # woken to run the next batch (its own job heads it)
        if lead:
            self._run_batch()
        if job.error is not None:
            raise job.error
        return job.results

    def _run_batch(self) -> None:
        """Run the queue's head and as many jobs behind it as fit; hand the lead on."""
        with self._lock:
            # the other open streams are a few microseconds of Python behind: waiting
            # for them (never over WAIT_S) makes one batch of what would be several
            self._arrived.wait_for(lambda: len(self._queue) >= self.expected, timeout=self.WAIT_S)
            batch, size = [], 0
            while self._queue and (not batch or size + len(self._queue[0].items) <= self.max_items):
                batch.append(self._queue.pop(0))
                size += len(batch[-1].items)
        try:
            results = self.fn([item for job in batch for item in job.items])
            at = 0
            for job in batch:
                job.results, at = results[at:at + len(job.items)], at + len(job.items)
        except Exception as e:  # every caller in the batch hears of it
            for job in batch:
                job.error = e
        with self._lock:
            self.batches, self.calls = self.batches + 1, self.calls + len(batch)
            if self._queue:  # the next batch is run by its first caller, in its own thread
                self._queue[0].lead = True
                self._queue[0].woken.set()
            else:
                self._busy = False
        for job in batch:
            job.woken.set()


class SharedSteps:
    """``model.step`` (a language model's one step: token, state -> logits, state,
    output) for many streams at once: ``steps(token_id, state) -> (logits (V,), state,
    output (H,))`` for one stream, batched with every other stream stepping meanwhile.
    A state is what the model's forward or step returned for one stream: a tensor of
    (layers, 1, H), or a tuple of them (an LSTM's h and c)."""

    def __init__(self, model: torch.nn.Module):
        self.model = model
        self._batcher = MicroBatcher(self._run, max_items=64)

    def __call__(self, token: int, state):
        return self._batcher([(token, state)])[0]

    @contextlib.contextmanager
    def stream(self):
        """Around a stream's steps: while it is open, each batch waits for its step."""
        with self._batcher._lock:
            self._batcher.expected += 1
        try:
            yield self
        finally:
            with self._batcher._lock:
                self._batcher.expected -= 1

    # a retrained generator travels pickled from its training process: its queue and
    # lock are made anew on arrival
    def __getstate__(self) -> dict:
        return {"model": self.model}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["model"])

    def _run(self, items: list) -> list:
        tokens = torch.tensor([t for t, _ in items])
        first = items[0][1]
        if isinstance(first, tuple):  # stack each part along the batch dimension
            state = tuple(torch.cat([s[k] for _, s in items], dim=1) for k in range(len(first)))
        else:
            state = torch.cat([s for _, s in items], dim=1)
        with torch.no_grad():
            logits, state, out = self.model.step(tokens, state)
        parts = state if isinstance(state, tuple) else (state,)
        split = [tuple(p[:, i:i + 1] for p in parts) for i in range(len(items))]
        return [(logits[i], s if isinstance(state, tuple) else s[0], out[i]) for i, s in enumerate(split)]
