"""Many visitors at once (rnn_core/serving.py): text streams generating at the same
time share each network step and write what each would write alone; a stream left
early, a failing stream and an idle server leave nothing running."""
from __future__ import annotations

import pickle
import threading
import time

import pytest
import torch


def _in_threads(n: int, work) -> list:
    out = [None] * n

    def run(i):
        out[i] = work(i)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return out


@pytest.fixture
def generator(tiny_textgen):
    from rnn_core.tasks.textgen.predictor import TextGenerator

    gen = TextGenerator.from_pretrained(tiny_textgen)
    return gen, gen.prepare("ROMEO:\n")[0]


def _text(gen, prime, seed, length=60):  # sampled (temperature 1): every seed writes its own text
    return "".join(s.char for s in gen.generate(prime, length, temperature=1.0, seed=seed))


def test_streams_stepping_together_write_what_each_writes_alone(generator):
    gen, prime = generator
    alone = [_text(gen, prime, seed) for seed in range(6)]
    before = gen._steps.rounds
    together = _in_threads(6, lambda seed: _text(gen, prime, seed))
    assert together == alone and len(set(alone)) > 1
    rounds = gen._steps.rounds - before
    assert rounds < 6 * 60  # steps were shared: fewer rounds than characters written


def test_each_stream_alone_when_batching_is_off(generator, monkeypatch):
    gen, prime = generator
    alone = [_text(gen, prime, seed) for seed in range(3)]
    monkeypatch.setenv("RNN_GALLERY_BATCHING", "off")
    before = gen._steps.rounds
    assert _in_threads(3, lambda seed: _text(gen, prime, seed)) == alone
    assert gen._steps.rounds - before == 3 * 60


def test_a_stream_left_early_is_closed_and_the_thread_ends_when_idle(generator, monkeypatch):
    import rnn_core.serving as serving

    monkeypatch.setattr(serving, "IDLE_S", 0.2)
    gen, prime = generator
    steps = gen.generate(prime, 2000)
    next(steps)
    steps.close()  # the visitor left: Gradio closes the generator
    assert all(s.closed for s in gen._steps._streams)
    time.sleep(1.0)
    assert gen._steps._threads == 0 and gen._steps._streams == []


def test_an_error_while_stepping_reaches_the_stream_and_the_next_stream_works(generator):
    gen, prime = generator

    def broken(logits):
        raise RuntimeError("draw failed")
    with torch.no_grad():
        (logits, state, _), _ = gen.model(torch.tensor([[1]]))
    with gen._steps.stream(logits[0, -1], state, broken, 5) as steps:
        with pytest.raises(RuntimeError, match="draw failed"):
            list(steps)
    assert len(_text(gen, prime, 0, length=10)) == 10


def test_a_generator_travels_pickled_and_still_steps(generator):
    gen, prime = generator
    copy = pickle.loads(pickle.dumps(gen))  # as a retrained one comes from its training process
    assert _text(copy, prime, 1) == _text(gen, prime, 1)
