"""The text generation tab's handlers on a tiny checkpoint, bad input included."""
import gradio as gr
import pytest

@pytest.fixture
def tab(tiny_app):
    from apps import textgen
    return textgen


def test_generate_streams_then_hands_text_to_inspect(tab, monkeypatch):
    monkeypatch.setattr(tab, "STREAM_EVERY_S", -1.0)  # an update after every character
    updates = list(tab.generate("ROMEO:\n", 40, 0.8, 0, 1.0, 1, "pretrained"))
    assert len(updates) > 2  # several partial updates: it streams
    texts = [u[0] for u in updates]
    assert all(b.startswith(a) for a, b in zip(texts, texts[1:])) and len(texts[-1]) == len("ROMEO:\n") + 40
    assert all(t.startswith("ROMEO:\n") for t in texts)  # the visitor's prime opens the text
    assert updates[-1][2] == texts[-1]  # the final text goes to the "look inside" box


def test_generate_streams_by_time_not_by_character(tab, monkeypatch):
    monkeypatch.setattr(tab, "STREAM_EVERY_S", 3600.0)  # nothing is due before the end
    updates = list(tab.generate("ROMEO:\n", 40, 0.8, 0, 1.0, 1, "pretrained"))
    assert len(updates) == 1 and len(updates[0][0]) == len("ROMEO:\n") + 40


@pytest.mark.parametrize("prime, note", [("", "new line"), ("😀 ROMEO", "never seen"), ("x" * 9000, "cut")])
def test_generate_bad_primes_get_notes(tab, prime, note):
    *_, (text, notes, _) = tab.generate(prime, 10, 0.8, 0, 1.0, 0, "pretrained")
    read, _ = tab.pretrained().prepare(prime)
    assert text.startswith(read) and len(text) == len(read) + 10 and note in notes


def test_generate_absurd_settings_are_clamped(tab):
    *_, (text, notes, _) = tab.generate("A", 10**7, -1, -5, 9, -2, "pretrained")
    assert len(text) == 1 + 2000 and "length" in notes and "temperature" in notes


def test_generate_with_missing_retrained_model(tab):
    with pytest.raises(gr.Error, match="no retrained model"):
        list(tab.generate("A", 5, 0.8, 0, 1.0, 0, "my retrained model", None))


def test_inspect_and_units(tab):
    out = tab.analyse("ROMEO:\nWhat light through yonder window breaks?\n", "pretrained")
    probs_html, analysis, suggestions, position, unit, top5, context, units_html = out
    n = len("ROMEO:\nWhat light through yonder window breaks?\n")
    assert probs_html.count("<span") == len(analysis["chars"]) == n
    assert suggestions["choices"] and len(top5) == 5 and units_html.count("<span") == n
    label, ctx, view = tab.guesses(analysis, 3)
    assert len(label) == 5 and "ROME" in ctx
    assert view.count("outline:") == 1 and view.count("<span") == n  # the chosen position, outlined
    assert tab.unit_view(analysis, 10**6).count("<span") == n  # out-of-range unit is clamped
    # NaN, infinity or text sent through the API for a position or unit: the first one
    for bad in (float("nan"), float("inf"), -float("inf"), "abc", None):
        assert tab.guesses(analysis, bad) == tab.guesses(analysis, 0)
        assert tab.unit_view(analysis, bad) == tab.unit_view(analysis, 0)


def test_generate_non_finite_numbers_are_replaced_with_a_note(tab):
    nan, inf = float("nan"), float("inf")
    *_, (text, notes, _) = tab.generate("A", 10, 0.8, nan, inf, nan, "pretrained")
    assert len(text) == 1 + 10 and "top_k" in notes and "seed" in notes


@pytest.mark.parametrize("text", ["", "   ", None, "😀😀"])
def test_inspect_bad_input(tab, text):
    with pytest.raises(gr.Error):
        tab.analyse(text, "pretrained")


def test_card(tab):
    assert "nats/char" in tab.card() and "LSTM" in tab.card()
