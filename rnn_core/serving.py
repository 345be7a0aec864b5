"""Many visitors at once: every text being generated advances in one shared step.

On a CPU one recurrent step costs nearly the same for one sequence as for eight (the
matrix products are too small to fill a core: the weights' bytes are the cost), so
`SharedSteps` runs one thread that advances every open stream together: each round it
draws each stream's next character, then runs the network one step for all of them,
and hands each stream its step through a queue. Measured (issue 28): 8 text streams
at once got 151 characters/s each stepping alone, their steps queued on the
interpreter one by one.

Whole-sentence predictions (sentiment) are not batched this way: each is already a
batch of 2n+1 sequences, and joining visitors' batches measured slower than letting
two requests run on the two cores side by side (258 against 302 predictions/s).

``RNN_GALLERY_BATCHING=off`` gives each stream a stepping thread of its own (no
sharing), so that ``bench load`` can measure the server both ways in one run.
"""
from __future__ import annotations

import atexit
import contextlib
import copy
import functools
import os
import queue
import threading
from pathlib import Path
from typing import Callable, Iterator

import torch

IDLE_S = 10.0  # a stepping thread with no stream for this long ends (a new stream starts one)
THREAD_NAME = "rnn-gallery-steps"
_STOPPING = threading.Event()  # set at exit: a daemon thread killed inside a torch call aborts the process


@atexit.register
def _stop_stepping() -> None:
    _STOPPING.set()
    for thread in threading.enumerate():
        if thread.name == THREAD_NAME:
            thread.join(timeout=2)


def batching_on() -> bool:
    """Whether streams share their steps (``RNN_GALLERY_BATCHING`` is not ``off``)."""
    return os.environ.get("RNN_GALLERY_BATCHING", "on").strip().lower() not in ("off", "0", "no")


class _Stream:
    """One text being generated: its last logits and state, how it draws a token, how
    many steps it has left, and the queue its steps go out through."""

    def __init__(self, logits: torch.Tensor, state, draw: Callable[[torch.Tensor], int], length: int):
        self.logits, self.state, self.draw, self.left = logits, state, draw, length
        self.out: queue.SimpleQueue = queue.SimpleQueue()
        self.closed = False


class SharedSteps:
    """Generation for many streams at once with a language model's ``step`` (token,
    state -> logits, state, output). `stream` opens one; its steps come out as
    ``(token, its probability, top-5 ids, their probabilities, output (H,))``.
    A state is what the model's forward returned for one sequence: a tensor of
    (layers, 1, H), or a tuple of them (an LSTM's h and c)."""

    def __init__(self, model: torch.nn.Module):
        self.model = model
        self._stepper: torch.nn.Module | None = None  # `model` or its bfloat16 copy: `fastest_stepper`
        self._lock = threading.Condition()
        self._streams: list[_Stream] = []
        self._threads = 0
        self.rounds = 0  # network steps run: fewer than the characters written when streams share them

    @contextlib.contextmanager
    def stream(self, logits: torch.Tensor, state, draw: Callable[[torch.Tensor], int],
               length: int) -> Iterator[Iterator[tuple]]:
        """Open a stream from the prime's last ``logits`` (V,) and ``state``; ``draw``
        picks a token from logits. Yields an iterator over its ``length`` steps; leaving
        the block (or dropping the iterator) closes it."""
        s = _Stream(logits, state, draw, length)
        with self._lock:
            if batching_on():
                self._streams.append(s)
                self._lock.notify()
                if not self._threads:
                    self._start(self._loop)
            else:  # each stream alone, in a thread of its own
                self._start(lambda: self._alone(s))
        try:
            yield self._read(s, length)
        finally:
            s.closed = True

    def _start(self, target) -> None:
        self._threads += 1
        threading.Thread(target=target, name=THREAD_NAME, daemon=True).start()

    @staticmethod
    def _read(s: _Stream, length: int) -> Iterator[tuple]:
        for _ in range(length):
            item = s.out.get()
            if isinstance(item, BaseException):
                raise item
            yield item

    def _loop(self) -> None:
        """The stepping thread: a round for every open stream while there are any."""
        while True:
            with self._lock:
                self._streams = [s for s in self._streams if not s.closed and s.left > 0]
                if _STOPPING.is_set() or (not self._streams and
                                          not self._lock.wait_for(lambda: self._streams, timeout=IDLE_S)):
                    self._threads -= 1
                    return
                batch = list(self._streams)
            self._round_or_fail(batch)

    def _alone(self, s: _Stream) -> None:
        while not s.closed and s.left > 0 and not _STOPPING.is_set():
            self._round_or_fail([s])
        with self._lock:
            self._threads -= 1

    def _round_or_fail(self, batch: list[_Stream]) -> None:
        try:
            self._round(batch)
        except Exception as e:  # every stream of the round hears of it, and ends
            for s in batch:
                s.out.put(e)
                s.closed = True

    def _round(self, batch: list[_Stream]) -> None:
        """Draw every stream's next token, then one network step for all of them."""
        if self._stepper is None:  # chosen on the first step: loading and pickling stay cheap
            self._stepper = fastest_stepper(self.model)
        dtype = next(self._stepper.parameters()).dtype
        with torch.no_grad():
            probs = torch.softmax(torch.stack([s.logits for s in batch]), -1)
            top_p, top_i = torch.topk(probs, min(5, probs.size(-1)))
            tokens = [s.draw(s.logits) for s in batch]
            parts = [s.state if isinstance(s.state, tuple) else (s.state,) for s in batch]
            state = tuple(torch.cat([p[k] for p in parts], dim=1).to(dtype) for k in range(len(parts[0])))
            logits, state, out = self._stepper.step(torch.tensor(tokens), state if len(state) > 1 else state[0])
            # float32 again outside: sampling and the look inside see no difference
            logits, out = logits.float(), out.float().numpy()
            state = tuple(p.float() for p in (state if isinstance(state, tuple) else (state,)))
        chosen = probs[torch.arange(len(batch)), torch.tensor(tokens)].tolist()
        top_p, top_i = top_p.tolist(), top_i.tolist()
        for i, s in enumerate(batch):
            own = tuple(p[:, i:i + 1] for p in state)
            s.logits, s.state, s.left = logits[i], own if len(own) > 1 else own[0], s.left - 1
            s.out.put((tokens[i], chosen[i], top_i[i], top_p[i], out[i].copy()))
        self.rounds += 1

    # a retrained generator travels pickled from its training process: its lock and
    # streams are made anew on arrival
    def __getstate__(self) -> dict:
        return {"model": self.model}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["model"])


def fastest_stepper(model: torch.nn.Module) -> torch.nn.Module:
    """``model``, or a bfloat16 copy of it on a CPU with native bfloat16 arithmetic.
    One step reads every weight once for a handful of rows: it is memory-bound, and
    half the bytes measured 2.4x faster on an AVX-512 BF16 CPU (1.42 -> 0.59 ms, one
    stream; 2.42 -> 0.90 ms, eight) with the same bits per character on Tiny
    Shakespeare (2.3987 and 2.3986). Decided by the CPU's flags, not by timing, so
    the same seed writes the same text in every process on a machine."""
    if next(model.parameters()).device.type != "cpu" or not native_bfloat16():
        return model
    return copy.deepcopy(model).to(torch.bfloat16)


@functools.cache
def native_bfloat16() -> bool:
    """Whether this CPU computes in bfloat16 natively (Linux: its flags in /proc/cpuinfo;
    elsewhere assumed not, which keeps float32)."""
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags
