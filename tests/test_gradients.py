"""The gradient lab: per-step BPTT gradient norms against autograd on the fused module
and finite differences, the gates, the presets for a few steps, bad settings, and the
tab's handlers."""
import html
import math
import re
import threading

import pytest
import torch
import torch.nn.functional as F

from rnn_core.gradlab import PRESETS, explain, settings_from, train_lab
from rnn_core.gradlab.lab import PREPARING
from rnn_core.gradlab.model import MemoryNet, spectral_radius
from rnn_core.gradlab.presets import CLAIMS, meets_claim
from rnn_core.gradlab.probe import gate_trace, step_gradients, unroll
from rnn_core.gradlab.task import CHANCE, SYMBOLS, VOCAB, fixed_batch


def _loss_from(model, x, targets, t, state):
    """The loss when the fused module restarts at step t+1 from ``state``: an
    independent graph (no step_rnn) in which the state is a leaf."""
    if t + 1 == x.size(1):
        h = state[0] if isinstance(state, tuple) else state
        return F.cross_entropy(model.head(h[0]), targets)
    out, _ = model.rnn(x[:, t + 1:], state)
    return F.cross_entropy(model.head(out[:, -1]), targets)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_step_gradients_match_autograd_and_finite_differences(cell):
    torch.manual_seed(0)
    model = MemoryNet(cell, hidden=3, scale=1.3).double()
    batch = fixed_batch(0, 2, gap=4)
    x, targets = batch["x"].double(), batch["targets"]
    got = step_gradients(model, {"x": x, "targets": targets})
    hs, cs = unroll(model.rnn, x)
    for t in range(x.size(1)):
        h = hs[t].detach()[None].clone().requires_grad_(True)
        c = cs[t].detach().clone().requires_grad_(True) if cs else None
        state = (h, c) if c is not None else h
        loss = _loss_from(model, x, targets, t, state)
        dh, *dc = torch.autograd.grad(loss, [h] + ([c] if c is not None else []), allow_unused=True)
        assert got["h_norms"][t] == pytest.approx(float(dh.norm()), rel=1e-6)
        if c is not None and t + 1 < x.size(1):
            assert got["c_norms"][t] == pytest.approx(float(dc[0].norm()), rel=1e-6)
        # central differences on one coordinate of h_t
        eps, e = 1e-6, torch.zeros_like(h)
        e[0, 1, 2] = eps
        with torch.no_grad():
            plus = _loss_from(model, x, targets, t, (h + e, c) if c is not None else h + e)
            minus = _loss_from(model, x, targets, t, (h - e, c) if c is not None else h - e)
        assert float(dh[0, 1, 2]) == pytest.approx(float(plus - minus) / (2 * eps), abs=1e-7)
    assert all(p.grad is None for p in model.parameters())  # the probe leaves the weights alone


def test_weight_scale_sets_the_spectral_radius_and_gates_are_probabilities():
    for cell in ("rnn", "lstm", "gru"):
        model = MemoryNet(cell, hidden=8, scale=1.7)
        assert spectral_radius(model.rnn) == pytest.approx(1.7, rel=1e-4)
        gates = gate_trace(model.rnn, fixed_batch(0, 1, 6)["x"][0])
        if cell == "rnn":
            assert gates is None
        else:
            assert len(gates) == 8 and len(gates[0]) == 7
            assert all(0 < g < 1 for row in gates for g in row)
            assert sum(map(sum, gates)) / 56 > 0.9  # the memory bias: the gate starts by keeping


def test_a_vanishing_rnn_has_a_tiny_first_step_gradient():
    model = MemoryNet("rnn", hidden=16, scale=0.5)
    norms = step_gradients(model, fixed_batch(0, 8, 60))["h_norms"]
    assert norms[0] / norms[-1] < 1e-6 and len(norms) == 61


@pytest.mark.parametrize("name", list(PRESETS))
def test_presets_run_a_few_steps(name):
    reports = []
    stop = threading.Event()

    def seen(p):
        reports.append(p)
        if p.step >= 3:
            stop.set()
    summary, result = train_lab({**PRESETS[name], "gap": 10, "hidden": 8}, seen, stop)
    assert result.steps >= 3 and result.stopped in ("stopped", "solved")  # at the first report after step 3
    # the process says it is up before it builds anything (the tab's "Preparing" phase), then
    # the untrained network's figures come at step 0, just before the first step
    assert reports[0].message == PREPARING and reports[0].val is None
    first = reports[1]
    assert first.step == 0 and len(first.val["h_norms"]) == 11
    assert 0 < summary["setup_seconds"] and summary["seconds"] > 0
    assert any(p.grad_norms for p in reports)
    assert summary["chance"] == CHANCE and summary["verdict"]
    assert (first.val["gates"] is None) == (PRESETS[name]["cell"] == "rnn")


@pytest.mark.parametrize("bad, note", [({"gap": 0}, "gap 0"), ({"scale": 100}, "scale 100"),
                                       ({"lr": float("nan")}, "lr is not a number"),
                                       ({"hidden": "many"}, "not a number"), ({"cell": "transformer"}, "not one of"),
                                       ({"lr": 1e9}, "lr")])
def test_bad_settings_are_clamped_with_a_note(bad, note):
    s, notes = settings_from(bad)
    assert any(note in n for n in notes)
    assert 5 <= s["gap"] <= 200 and 0.1 <= s["scale"] <= 2 and math.isfinite(s["lr"]) and s["lr"] <= 1


def _summary(**over):
    base = {"settings": settings_from({})[0], "accuracy": 0.25, "chance": 0.25, "ratio": 1e-9,
            "max_grad_norm": 5.0, "nonfinite": False, "steps": 100, "seconds": 40.0, "radius_start": 1.0}
    base["settings"].update(over.pop("settings", {}))
    return {**base, **over}


def test_the_gap_is_random_distractors_and_the_signal_only_comes_first():
    tokens = fixed_batch(0, 64, 30)["x"].argmax(-1)
    assert (tokens[:, 0] < SYMBOLS).all() and (tokens[:, 1:] >= SYMBOLS).all()
    assert len(tokens[:, 1:].unique()) == VOCAB - SYMBOLS  # not one blank: many different sequences
    assert len({tuple(row.tolist()) for row in tokens}) == 64


def test_each_preset_pair_differs_in_one_setting():
    def diff(a, b):
        return {k for k in PRESETS[a] if PRESETS[a][k] != PRESETS[b][k]}
    assert diff("plain RNN, T=100", "LSTM, T=100") == {"cell"}
    assert diff("RNN, scale 2, no clipping", "RNN, scale 2, with clipping") == {"clip"}
    assert PRESETS["plain RNN, T=100"]["gap"] == 100 and all(p["seconds"] <= 60 for p in PRESETS.values())
    assert set(CLAIMS) == set(PRESETS)


def test_claims_are_checked_against_the_figures():
    plain, lstm, wild, tamed = PRESETS
    assert meets_claim(plain, _summary(accuracy=0.29, ratio=0.0))
    assert not meets_claim(plain, _summary(accuracy=0.54, ratio=0.0))  # one bit stored is not "near chance"
    assert not meets_claim(plain, _summary(accuracy=0.25, ratio=0.01))
    assert meets_claim(lstm, _summary(accuracy=0.99)) and not meets_claim(lstm, _summary(accuracy=0.9))
    assert meets_claim(wild, _summary(max_grad_norm=2e3)) and meets_claim(wild, _summary(nonfinite=True))
    assert not meets_claim(wild, _summary(max_grad_norm=500.0))
    assert meets_claim(tamed, _summary(accuracy=0.9)) and not meets_claim(tamed, _summary(accuracy=0.8))
    assert not meets_claim(lstm, _summary(accuracy=1.0, seconds=61.0))


def test_the_verdict_follows_what_was_measured():
    assert "Vanishing" in explain(_summary(settings={"cell": "rnn"}))
    assert "Exploding" in explain(_summary(nonfinite=True))
    assert "Exploding" in explain(_summary(settings={"clip": False}, max_grad_norm=2e4, accuracy=0.5))
    learned = explain(_summary(settings={"cell": "lstm"}, accuracy=1.0, ratio=0.02, seconds=1.2))
    assert learned.startswith("Learned") and "gates" in learned
    # the loop's clock, named as such: not the process start and preparation before it (issue 28)
    assert "after 1.2 s of training" in learned
    assert "clipping" in explain(_summary(accuracy=0.95, max_grad_norm=400.0))
    assert explain(_summary(accuracy=0.6, ratio=0.1)).startswith("Partly")
    assert "float32" in explain(_summary(settings={"cell": "rnn"}, ratio=0.0))
    assert "Adam" in explain(_summary(settings={"cell": "rnn"}))
    thrown = explain(_summary(settings={"clip": False, "optimizer": "sgd"}, max_grad_norm=1e4,
                              radius_start=2.0, radius_end=300.0))
    assert "SGD" in thrown and "from 2 to 300" in thrown
    # a name says nothing: the same settings with a different outcome get another sentence
    assert "Vanishing" not in explain(_summary(settings={"cell": "rnn"}, accuracy=0.99))
    # stopped by the visitor after one step: no verdict on the gradients
    assert explain(_summary(settings={"cell": "rnn"}, stopped="stopped", steps=1)).startswith("Stopped after 1 step")


def test_tab_handlers_train_stream_and_explain(monkeypatch):
    from apps import gradients as tab

    assert tab.fill("LSTM, T=100")[0] == "lstm"
    monkeypatch.setattr(tab, "PLOT_SECONDS", 0.2)
    # absurd settings from the API: clamped with a note, never a traceback
    outs = list(tab.run("rnn", 0, 8, 100, True, float("nan"), "adam", 5, 0))
    status = outs[-1][0]
    assert "gap 0 is below 5" in outs[0][0] and "scale 100.0 is above 2.0" in outs[0][0]
    assert "Done" in status and "What happened:" in status
    curve, per_step, norm, gate = outs[-1][1:]
    assert all(f.axes for f in (curve, per_step, norm, gate))
    assert tab.stop() is not None  # nothing running: a no-op


def _bar_and_text(status: str) -> tuple[float, str]:
    width = float(re.search(r"width:([\d.]+)%", status).group(1))
    return width, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.unescape(status)))


def test_the_status_names_each_phase_and_a_stopped_run_stays_where_it_stopped(monkeypatch):
    """Issue 28: 8 s of "Building the network" then "learned in 1 s", and the bar at 100%
    after Stop. The status names each phase before the first step, the last one says
    where the time went (adding up), and a stopped run's bar stays below 100%."""
    from apps import gradients as tab

    monkeypatch.setattr(tab, "PLOT_SECONDS", 0.2)
    values = {**PRESETS["plain RNN, T=100"], "gap": 30, "hidden": 8, "seconds": 60}  # stays at chance
    texts, pressed = [], False
    for out in tab.run(*[values[n] for n in tab.NAMES]):
        texts.append(_bar_and_text(out[0])[1])
        if texts[-1].split("· ")[-1].startswith("step") and not pressed:
            assert tab.stop() is not None  # the visitor presses Stop once training shows
            pressed = True
    phases = ["Starting the training process", "Preparing: building the RNN network", "step "]
    at = [next((i for i, t in enumerate(texts) if phase in t), None) for phase in phases]
    assert None not in at and at == sorted(at), texts  # each shown at least once, in this order
    width, text = _bar_and_text(out[0])
    assert width < 100 and "Stopped by you at step" in text and "Done" not in text
    figures = re.search(r"([\d.]+) s of training \(([\d.]+) s since you pressed Train: (?:([\d.]+) s waiting "
                        r"for the training slot, )?([\d.]+) s starting the training process, ([\d.]+) s preparing\)",
                        text)
    assert figures, text
    training, total, waiting, starting, preparing = (float(f or 0) for f in figures.groups())
    assert training + waiting + starting + preparing <= total + 1.2  # parts of the wait, not more (rounding)


def test_one_training_per_session_shared_with_the_retrain_panels():
    import gradio as gr

    from apps.job_slots import claim_job, release_job

    class FakeJob:
        def __init__(self, task):
            self.task, self.done, self.stopped = task, threading.Event(), False

        def start(self):
            return self

        def stop(self):
            self.stopped = True

    first, second = FakeJob("textgen"), FakeJob("gradients")
    assert claim_job("s1", first) is first
    with pytest.raises(gr.Error, match="A training \\(textgen\\) is already running"):
        claim_job("s1", second, "A training")
    assert claim_job("s2", second) is second  # another session has its own slot
    release_job("s1", first)
    third = claim_job("s1", FakeJob("gradients"))
    assert first.stopped
    release_job("s1", first)  # not the slot's job any more: the slot stays taken
    with pytest.raises(gr.Error):
        claim_job("s1", FakeJob("gradients"))
    release_job("s1", third)
    release_job("s2", second)


def test_landing_card_draws_bptt():
    from apps import gradients
    from apps.layout import landing_html

    page = landing_html([gradients])
    assert "backpropagation through time" in page and "Gradients" in page
