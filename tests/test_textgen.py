"""The character language model: sampling, streaming, reproducibility, the look inside,
truncated BPTT, the n-gram baseline and the CLI, on a tiny checkpoint."""
import json
import math

import numpy as np
import pytest
import torch

from rnn_core.__main__ import main
from rnn_core.baselines import char_ngram
from rnn_core.decoding import filter_logits
from rnn_core.models import create_model
from rnn_core.tasks import TASKS
from rnn_core.tasks.textgen.data import nats_per_char, stream_chunks
from rnn_core.tasks.textgen.predictor import TextGenerator, suggest_units

textgen = TASKS["textgen"]


@pytest.fixture(scope="module")
def gen(tiny_textgen):
    return TextGenerator.from_pretrained(tiny_textgen)


def test_tiny_model_learned(tiny_textgen, shakespeare_dir):
    metrics = textgen.evaluate(tiny_textgen, data_dir=str(shakespeare_dir))
    assert metrics["val_nats_per_char"] < 1.5  # uniform over the alphabet would be ~3.5
    assert metrics["val_bits_per_char"] == pytest.approx(metrics["val_nats_per_char"] / math.log(2), abs=1e-3)
    assert metrics["baseline"]["order"] >= 2


def test_generation_is_reproducible_for_a_seed(gen):
    prime, _ = gen.prepare("ROMEO:\n")
    a = "".join(s.char for s in gen.generate(prime, 60, temperature=1.0, seed=7))
    b = "".join(s.char for s in gen.generate(prime, 60, temperature=1.0, seed=7))
    c = "".join(s.char for s in gen.generate(prime, 60, temperature=1.0, seed=8))
    assert a == b and a != c and len(a) == 60


def test_generation_streams(gen):
    steps = gen.generate("\n", 10**6)  # a generator: nothing is computed until asked
    first = next(steps)
    assert len(first.char) == 1 and 0 < first.prob <= 1 and len(first.top) == 5
    assert first.hidden.shape == (32,)


def test_generation_resumes_on_another_thread(gen):
    """A server resumes a streaming handler on whichever worker thread is free, and
    grad mode is per thread: a step there must not build a graph (it used to fail
    with "Can't call numpy() on Tensor that requires grad")."""
    from concurrent.futures import ThreadPoolExecutor

    steps = gen.generate("ROMEO:\n", 4, seed=1)
    first = next(steps)
    with ThreadPoolExecutor(1) as pool:
        rest = pool.submit(list, steps).result()
    same = list(gen.generate("ROMEO:\n", 4, seed=1))
    assert [s.char for s in [first] + rest] == [s.char for s in same]


def test_top_k_one_is_greedy(gen):
    prime, _ = gen.prepare("JULIET:\n")
    steps = list(gen.generate(prime, 30, temperature=1.0, top_k=1, seed=3))
    assert all(s.char == s.top[0][0] for s in steps)


def test_filter_logits_top_k_and_top_p():
    logits = torch.log(torch.tensor([0.5, 0.3, 0.15, 0.05]))
    assert (filter_logits(logits, top_k=2) > 0).tolist() == [True, True, False, False]
    assert (filter_logits(logits, top_p=0.75) > 0).tolist() == [True, True, False, False]
    assert (filter_logits(logits, top_p=0.8) > 0).tolist() == [True, True, False, False]
    assert (filter_logits(logits, top_p=0.81) > 0).tolist() == [True, True, True, False]
    assert (filter_logits(logits, top_p=0.1) > 0).tolist() == [True, False, False, False]
    p = filter_logits(logits, temperature=1.0)
    torch.testing.assert_close(p, torch.tensor([0.5, 0.3, 0.15, 0.05]))
    assert float(filter_logits(logits, temperature=0.05)[0]) > 0.999


@pytest.mark.parametrize("bfloat16, atol", [(False, 1e-5), (True, 0.1)])
def test_hidden_units_come_from_the_generating_pass(tiny_textgen, monkeypatch, bfloat16, atol):
    """What the unit viewer shows for generated text is what the network computed
    while generating it: the same numbers when generation steps in float32; within
    bfloat16's rounding (3 significant digits, over 40 steps) where it steps in that."""
    import rnn_core.serving as serving

    monkeypatch.setattr(serving, "native_bfloat16", lambda: bfloat16)
    gen = TextGenerator.from_pretrained(tiny_textgen)  # its stepper is chosen at its first step
    prime, _ = gen.prepare("\nROMEO:\n")  # analyse() reads its text after a new line too
    steps = list(gen.generate(prime, 40, seed=2))
    assert next(gen._steps._stepper.parameters()).dtype == (torch.bfloat16 if bfloat16 else torch.float32)
    analysis = gen.analyse(prime[1:] + "".join(s.char for s in steps))
    during = np.stack([s.hidden for s in steps])
    np.testing.assert_allclose(analysis["hidden"][-40:], during, atol=atol)


def test_prepare_handles_bad_primes(gen):
    assert gen.prepare("")[0] == "\n" and "new line" in gen.prepare("")[1][0]
    prime, notes = gen.prepare("ROMEO 😀 ñ")
    assert "😀" not in prime and "never seen" in notes[0]
    prime, notes = gen.prepare("R" * 10_000)
    assert len(prime) == 2000 and "cut" in notes[0]


def test_generation_settings_are_clamped():
    s, notes = TextGenerator.generation_settings({"length": 10**9, "temperature": 0, "top_k": -3, "top_p": 7, "seed": "x"})
    assert s == {"length": 2000, "temperature": 0.05, "top_k": 0, "top_p": 1.0, "seed": 0} and len(notes) == 5


def test_suggest_units_finds_a_planted_unit():
    chars = list("AB:\nab cd\nEF:\nef gh\n" * 5)
    hidden = np.random.default_rng(0).normal(size=(len(chars), 6))
    hidden[:, 4] = [1.0 if c == " " else -1.0 for c in chars]
    units = suggest_units(chars, hidden)
    assert (4, "spaces between words") in [(u, name) for u, name, _ in units]


def test_stream_chunks_continue_each_other():
    ids = torch.arange(1000)
    chunks = stream_chunks(ids, batch_size=4, seq_len=16, offset=3)
    assert chunks[0]["reset"] and not chunks[1]["reset"]
    torch.testing.assert_close(chunks[0]["targets"][:, :-1], chunks[0]["x"][:, 1:])
    assert int(chunks[1]["x"][0, 0]) == int(chunks[0]["x"][0, -1]) + 1  # chunk 2 continues chunk 1
    assert int(chunks[0]["x"][0, 0]) == 3


def test_nats_per_char_of_an_untrained_model_is_near_uniform():
    torch.manual_seed(0)
    lm = create_model("SequenceLM", vocab_size=20, embed_dim=4, hidden_size=4, num_layers=1)
    with torch.no_grad():
        lm.out.weight.zero_()
        lm.out.bias.zero_()
    assert nats_per_char(lm, torch.randint(0, 20, (2000,))) == pytest.approx(math.log(20), abs=1e-4)


def test_char_ngram_baseline():
    text = "abcabcabcabd" * 50
    r = char_ngram(text, "abcabcabcabd" * 5, max_order=4)
    assert r["order"] >= 3 and r["val_nats_per_char"] < 0.5
    assert r["by_order"][1] > r["by_order"][3]


def test_cli_evaluate_textgen_json(tiny_textgen, shakespeare_dir, capsys):
    assert main(["evaluate", "textgen", "--weights", str(tiny_textgen), "--data", str(shakespeare_dir),
                 "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {"val_nats_per_char", "val_bits_per_char", "baseline"} <= set(metrics)
    assert main(["evaluate", "textgen", "--weights", str(tiny_textgen), "--split", "test"]) == 2


def test_live_samples_during_training(shakespeare_dir):
    _, result = textgen.train({"hidden": 8, "layers": 1, "embed": 4, "epochs": 1, "batch_size": 4,
                               "seq_len": 16, "live_samples": True, "max_minutes": None},
                              data_dir=str(shakespeare_dir))
    assert all(isinstance(h.get("sample"), str) and len(h["sample"]) == 160 for h in result.history)
