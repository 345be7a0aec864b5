"""The model summary (rnn_core/summary.py): every registered head summarised from its own
``example_batch()`` (a head added to MODELS is covered the day it is registered), the
rows adding up to the module's own parameter count, and the summary where people read
it: a tab's model card and ``python -m rnn_core summary``."""
import threading

import pytest
import torch
import torch.nn as nn

from rnn_core.__main__ import main
from rnn_core.models import ATTENTIONS, MODELS, create_model
from rnn_core.summary import NO_SHAPE, model_summary, summary_table_md, summary_text
from tests.conftest import link_data
from tests.test_models import HEAD_ARGS


def _summary_of(name: str, **changes):
    model = create_model(name, **{**HEAD_ARGS[name], **changes})
    return model, model_summary(model, **model.example_batch(batch_size=3))


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_head_is_summarised_from_its_example_batch(name):
    model, s = _summary_of(name)
    total = sum(p.numel() for p in model.parameters())
    assert s.total == s.trainable == total and sum(r.params for r in s.rows) == total
    assert s.bytes == 4 * total and s.dtypes == ("float32",) and s.model == type(model).__name__
    layers = [r for r in s.rows if not r.kind.startswith("Parameter")]
    assert layers and all(r.shape and r.shape[0] == "B" for r in layers)  # every layer ran, batch first
    names = dict(model.named_modules())
    assert all(r.name in names for r in layers) and len({r.name for r in s.rows}) == len(s.rows)
    for table in (summary_table_md(s), summary_text(s)):
        assert f"{total:,}" in table and all(r.name in table for r in s.rows)


@pytest.mark.parametrize("attention", ATTENTIONS)
def test_seq2seq_rows_follow_its_attention_and_keep_its_bare_parameter(attention):
    model, s = _summary_of("Seq2Seq", attention=attention)
    rows = {r.name: r for r in s.rows}
    assert rows["out_bias"].params == 25 and rows["out_bias"].shape is None  # held by no layer
    assert rows["encoder"].kind == "GRU(8→6, bidirectional)" and rows["encoder"].shape == ("B", 8, 12)
    assert rows["tgt_embed"].shape == ("B", 9, 8)  # the example's 10 target tokens less the last
    assert ("score_w" in rows) == (attention == "general") and ("score_v" in rows) == (attention == "additive")
    assert sum(r.params for r in s.rows) == s.total


def test_kinds_name_the_key_sizes():
    model, s = _summary_of("CTCRecognizer")
    kinds = {r.name: r.kind for r in s.rows}
    assert kinds == {"convs.0": "Conv1d(5→4, kernel 5, stride 2)", "convs.1": "Conv1d(4→4, kernel 3, stride 1)",
                     "norms.0": "LayerNorm(4)", "norms.1": "LayerNorm(4)",
                     "rnn": "GRU(4→6, 2 layers, bidirectional)", "drop": "Dropout(0.1)", "out": "Linear(12→7)"}
    assert dict((r.name, r.shape) for r in s.rows)["convs.0"] == ("B", 4, 20)  # 40 frames, stride 2


class _Tied(nn.Module):
    """An embedding and an output layer sharing one weight, plus attention (atomic) and
    a layer the forward pass never calls."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 4)
        self.attn = nn.MultiheadAttention(4, 2, batch_first=True)
        self.out = nn.Linear(4, 10)
        self.out.weight = self.embed.weight
        self.unused = nn.Linear(4, 4)
        self.frozen = nn.LayerNorm(4)
        self.frozen.requires_grad_(False)

    def forward(self, x):
        h = self.frozen(self.embed(x))
        return self.out(self.attn(h, h, h)[0])


def test_a_shared_weight_counts_once_and_modes_are_restored():
    model = _Tied().train()
    model.frozen.eval()
    s = model_summary(model, torch.randint(0, 10, (2, 5)))
    rows = {r.name: r for r in s.rows}
    assert list(rows) == ["embed", "attn", "out", "unused", "frozen"]  # attn's out_proj is inside attn
    assert rows["out"].params == 10 and rows["embed"].params == 40  # the tied weight counted at embed
    assert s.total == sum(p.numel() for p in model.parameters()) == sum(r.params for r in s.rows)
    assert s.trainable == s.total - 8 and rows["attn"].kind == "MultiheadAttention(4, 2 heads)"
    assert rows["out"].shape == ("B", 5, 10) and rows["unused"].shape is None
    assert NO_SHAPE in summary_text(s) and "Non-trainable params: 8" in summary_text(s)
    assert model.training and not model.frozen.training  # each module's own mode, as it was
    assert not any(m._forward_hooks for m in model.modules())


def test_another_threads_call_does_not_count():
    """A shipped model is shared: a visitor's call while the summary runs is ignored."""
    model = create_model("SequenceClassifier", **HEAD_ARGS["SequenceClassifier"]).eval()
    other = threading.Thread(target=lambda: model(torch.randint(2, 30, (7, 3))))
    real = model.forward

    def forward(*args, **kwargs):  # a visitor calls in the middle of the summary's pass
        if not other.is_alive() and other.ident is None:
            other.start()
            other.join()
        return real(*args, **kwargs)

    model.forward = forward
    s = model_summary(model, **model.example_batch(batch_size=2, length=5))
    assert dict((r.name, r.shape) for r in s.rows)["embed"] == ("B", 5, 8)


def test_sentiment_card_ends_with_the_summary(tiny_sentiment, tmp_path, monkeypatch):
    """Every card made with `card_of` gets the collapsed summary of the shipped model;
    the tab's other text about the model does not."""
    from apps import sentiment

    monkeypatch.setenv("RNN_GALLERY_ASSETS", str(link_data(tmp_path / "assets", [tiny_sentiment])))
    sentiment.pretrained.cache_clear()
    try:
        model = sentiment.pretrained().model
        card = sentiment.card()
        assert "<details><summary>Model summary (layers, shapes, parameters)</summary>" in card
        assert f"Total params: {sum(p.numel() for p in model.parameters()):,}" in card
        assert "| `rnn` | GRU(16→16, bidirectional) |" in card
        assert "Model summary" not in sentiment.limits()
    finally:
        sentiment.pretrained.cache_clear()


def test_forecast_card_ends_with_the_summary(tiny_forecast, tmp_path, monkeypatch):
    """The forecast tab's card (one per series, outside `card_of`) has it too."""
    from apps import forecast

    monkeypatch.setenv("RNN_GALLERY_ASSETS", str(link_data(tmp_path / "assets", [tiny_forecast])))
    forecast.pretrained.cache_clear()
    try:
        model = forecast.pretrained(series="sunspots").model
        card = forecast.card("sunspots")
        assert f"Total params: {sum(p.numel() for p in model.parameters()):,}" in card and "<details>" in card
    finally:
        forecast.pretrained.cache_clear()


def test_summary_verb_prints_the_table(tiny_sentiment, capsys):
    assert main(["summary", "sentiment", "--weights", str(tiny_sentiment)]) == 0
    out = capsys.readouterr().out
    assert out.startswith('Model: "SequenceClassifier"') and "Total params:" in out and "Param #" in out
    assert main(["summary", "sentiment", "--weights", "/nowhere"]) == 2
