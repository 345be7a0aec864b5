"""Many visitors at once (rnn_core/serving.py): concurrent calls batched together give
each caller its own answer, errors reach every caller of a batch, and text streams
stepping together write what each would write alone."""
from __future__ import annotations

import pickle
import threading
import time

import pytest

from rnn_core.serving import MicroBatcher


def _in_threads(n: int, work) -> list:
    out = [None] * n

    def run(i):
        out[i] = work(i)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return out


def test_concurrent_calls_share_batches_and_each_gets_its_own_results():
    seen = []

    def double(items):
        seen.append(len(items))
        time.sleep(0.01)  # a forward pass: callers arriving meanwhile queue for the next
        return [2 * x for x in items]

    batcher = MicroBatcher(double)
    results = _in_threads(16, lambda i: batcher([i, 100 + i]))
    assert results == [[2 * i, 200 + 2 * i] for i in range(16)]
    assert sum(seen) == 32 and len(seen) < 16 and batcher.calls == 16  # fewer passes than calls


def test_an_error_reaches_every_caller_of_its_batch_and_the_next_batch_still_runs():
    batcher = MicroBatcher(lambda items: [1 / x for x in items])
    with pytest.raises(ZeroDivisionError):
        batcher([0])
    assert batcher([4]) == [0.25]


def test_off_switch_runs_each_call_alone(monkeypatch):
    monkeypatch.setenv("RNN_GALLERY_BATCHING", "off")
    batcher = MicroBatcher(lambda items: [len(items)] * len(items))
    assert _in_threads(8, lambda i: batcher([i])) == [[1]] * 8 and batcher.batches == 0


def test_streams_stepping_together_write_what_each_writes_alone(tiny_textgen):
    from rnn_core.tasks.textgen.predictor import TextGenerator

    gen = TextGenerator.from_pretrained(tiny_textgen)
    prime, _ = gen.prepare("ROMEO:\n")

    def text(seed):  # sampled (temperature 1), so every seed writes its own text
        return "".join(s.char for s in gen.generate(prime, 60, temperature=1.0, seed=seed))
    alone = [text(seed) for seed in range(6)]
    batches_before = gen._steps._batcher.batches
    together = _in_threads(6, text)
    assert together == alone and len(set(alone)) > 1
    stepped = gen._steps._batcher
    assert stepped.batches - batches_before < 6 * 60  # steps were shared
    assert stepped.expected == 0  # every stream closed


def test_a_generator_travels_pickled_and_still_steps(tiny_textgen):
    from rnn_core.tasks.textgen.predictor import TextGenerator

    gen = TextGenerator.from_pretrained(tiny_textgen)
    copy = pickle.loads(pickle.dumps(gen))  # as a retrained one comes from its training process
    prime, _ = gen.prepare("A")
    assert [s.char for s in copy.generate(prime, 20)] == [s.char for s in gen.generate(prime, 20)]
