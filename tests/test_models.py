"""Every cell and every registered head: forward + backward, shapes, and errors."""
import pytest
import torch

from rnn_core.models import CELLS, MODELS, create_model, init_state, make_rnn, run_rnn

# Small constructor arguments for each registered head; a head added to MODELS
# without an entry here makes test_every_head_is_covered fail.
HEAD_ARGS = {
    "SequenceClassifier": dict(vocab_size=30, num_classes=3, embed_dim=8, hidden_size=6),
    "EnsembleClassifier": dict(members=[dict(vocab_size=30, num_classes=3, embed_dim=8, hidden_size=6),
                                        dict(vocab_size=30, num_classes=3, embed_dim=4, hidden_size=5,
                                             cell="gru", pooling="max")]),
    "SequenceLM": dict(vocab_size=30, embed_dim=8, hidden_size=6, num_layers=2),
    "CTCRecognizer": dict(vocab_size=7, n_mels=5, hidden_size=6, num_layers=2, conv_channels=4),
    "Forecaster": dict(input_size=3, horizon=4, hidden_size=6, num_layers=2),
    "Seq2Seq": dict(src_vocab=20, tgt_vocab=25, embed_dim=8, hidden_size=6),
}


def test_every_head_is_covered():
    assert set(HEAD_ARGS) == set(MODELS)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("layers", [1, 2])
def test_make_rnn_forward_backward(cell, bidirectional, layers):
    rnn = make_rnn(cell, 5, 7, num_layers=layers, bidirectional=bidirectional, dropout=0.1)
    x = torch.randn(3, 4, 5, requires_grad=True)
    out, state = run_rnn(rnn, x, torch.tensor([4, 2, 1]), init_state(rnn, 3))
    assert out.shape == (3, 4, 7 * (2 if bidirectional else 1))
    # padding positions carry zeros, so they cannot leak into pooling
    assert torch.all(out[2, 1:] == 0)
    out.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_make_rnn_rejects_unknown_cell():
    with pytest.raises(ValueError, match="unknown cell"):
        make_rnn("transformer", 4, 4)


def _with_cell(args: dict, cell: str) -> dict:
    if "members" in args:
        return {"members": [_with_cell(m, cell) for m in args["members"]]}
    return {**args, "cell": cell}


def _output(out) -> torch.Tensor:
    """The head's main output tensor (LM: logits of (logits, state, outputs); CTC:
    log-probabilities of (log_probs, lengths))."""
    return out[0] if isinstance(out, tuple) else out


# the main output's shape for the example batch of HEAD_ARGS' model (batch 4, length 6;
# CTC: 12 frames, halved by its strided conv)
OUTPUT_SHAPES = {"SequenceClassifier": (4, 3), "EnsembleClassifier": (4, 3), "SequenceLM": (4, 6, 30),
                 "CTCRecognizer": (4, 6, 7), "Forecaster": (4, 4, 3), "Seq2Seq": (4, 7, 25)}


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("cell", CELLS)
def test_every_head_forward_backward(name, cell):
    """The head contract: ``forward(x, *, lengths=None, targets=None)`` on the head's own
    ``example_batch()`` gives (output, finite loss), gradients everywhere, and without
    targets no loss."""
    torch.manual_seed(0)
    model = create_model(name, **_with_cell(HEAD_ARGS[name], cell))
    batch = model.example_batch(batch_size=4, length=12 if name == "CTCRecognizer" else 6, seed=1)
    out, loss = model(**batch)
    assert tuple(_output(out).shape) == OUTPUT_SHAPES[name]
    assert torch.isfinite(loss)
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    # without targets: output only
    assert model(**{k: v for k, v in batch.items() if k not in ("targets", "mask")})[1] is None


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_head_takes_lengths_and_targets_by_keyword_only(name):
    """One call for every head: positional lengths or targets are refused, so a head
    that reorders its parameters cannot silently swap them."""
    model = create_model(name, **HEAD_ARGS[name])
    batch = model.example_batch(batch_size=2, length=12 if name == "CTCRecognizer" else 6)
    with pytest.raises(TypeError):
        model(batch["x"], batch.get("lengths"), batch["targets"])


@pytest.mark.parametrize("pooling", ["last", "max", "maxlast"])
def test_classifier_ignores_padding(pooling):
    """The same sentence padded to different lengths gets the same logits."""
    model = create_model("SequenceClassifier", vocab_size=20, pooling=pooling, embed_dim=8,
                         hidden_size=5).eval()
    seq = torch.tensor([[3, 4, 5]])
    padded = torch.tensor([[3, 4, 5, 0, 0, 0]])
    a, _ = model(seq, lengths=torch.tensor([3]))
    b, _ = model(padded, lengths=torch.tensor([3]))
    torch.testing.assert_close(a, b)


def test_ensemble_averages_member_probabilities():
    torch.manual_seed(0)
    ens = create_model("EnsembleClassifier", **HEAD_ARGS["EnsembleClassifier"]).eval()
    x = torch.randint(2, 30, (3, 5))
    probs = torch.stack([torch.softmax(m(x)[0], -1) for m in ens.members]).mean(0)
    torch.testing.assert_close(torch.softmax(ens(x)[0], -1), probs)


def test_create_model_records_its_arguments():
    model = create_model("SequenceClassifier", **HEAD_ARGS["SequenceClassifier"])
    assert model.architecture == "SequenceClassifier"
    assert model.model_args == HEAD_ARGS["SequenceClassifier"]
    with pytest.raises(ValueError, match="unknown architecture"):
        create_model("Nope")


def test_subword_embeddings_change_unknown_words():
    """With subword buckets, an unknown word's vector comes from its n-grams."""
    torch.manual_seed(0)
    model = create_model("SequenceClassifier", vocab_size=10, embed_dim=6, hidden_size=4,
                         subword_buckets=50).eval()
    x = torch.tensor([[1, 1]])  # two unknown words...
    a = torch.tensor([[[3, 4, 0], [5, 0, 0]]])  # ...with different pieces
    b = torch.tensor([[[7, 8, 9], [5, 0, 0]]])
    assert not torch.allclose(model(x, subwords=a)[0], model(x, subwords=b)[0])
    torch.testing.assert_close(model(x, subwords=torch.zeros_like(a))[0], model(x)[0])


@pytest.mark.parametrize("cell", CELLS)
def test_lm_state_carries_across_calls(cell):
    """Reading a sequence in two chunks with the carried state equals reading it whole."""
    torch.manual_seed(0)
    lm = create_model("SequenceLM", vocab_size=12, embed_dim=5, hidden_size=7, num_layers=2, cell=cell).eval()
    x = torch.randint(0, 12, (3, 10))
    (whole, _, _), _ = lm(x)
    (first, state, _), _ = lm(x[:, :4])
    (second, _, _), _ = lm(x[:, 4:], state=state)
    torch.testing.assert_close(torch.cat([first, second], 1), whole, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("layers", [1, 2])
def test_hand_written_step_matches_torch(cell, layers):
    """The generator's one-step cell equals nn.RNN/LSTM/GRU to 1e-5, state included."""
    from rnn_core.models import step_rnn

    torch.manual_seed(0)
    rnn = make_rnn(cell, 5, 7, num_layers=layers).eval()
    x = torch.randn(3, 6, 5)
    with torch.no_grad():
        full, full_state = rnn(x)
        state, outs = None, []
        for t in range(6):
            out, state = step_rnn(rnn, x[:, t], state)
            outs.append(out)
    torch.testing.assert_close(torch.stack(outs, 1), full, atol=1e-5, rtol=1e-5)
    for a, b in zip(state if isinstance(state, tuple) else (state,),
                    full_state if isinstance(full_state, tuple) else (full_state,)):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_lm_with_context_channels_steps_like_it_reads():
    """With several tokens a step (e.g. a melody's lookback), stepping one position at
    a time gives the logits of reading the whole sequence."""
    torch.manual_seed(0)
    lm = create_model("SequenceLM", vocab_size=12, embed_dim=4, hidden_size=7, num_layers=2, channels=3).eval()
    x = torch.randint(0, 12, (2, 5, 3))
    with torch.no_grad():
        (whole, _, _), _ = lm(x)
        state, steps = None, []
        for t in range(5):
            logits, state, _ = lm.step(x[:, t], state)
            steps.append(logits)
    torch.testing.assert_close(torch.stack(steps, 1), whole, atol=1e-5, rtol=1e-5)
    with pytest.raises(RuntimeError):
        lm(torch.randint(0, 12, (2, 5)))  # one token a step is not what it was built for


@pytest.mark.parametrize("conv_channels", [0, 4])
def test_ctc_output_lengths_match_real_frames(conv_channels):
    """out_lengths counts exactly the frames the network computes for each input length,
    and the log-probabilities are distributions over the labels."""
    model = create_model("CTCRecognizer", vocab_size=7, n_mels=5, hidden_size=6, conv_channels=conv_channels).eval()
    stride = 2 if conv_channels else 1
    assert model.stride == stride
    for n in range(1, 12):
        (out, out_lengths), _ = model(torch.randn(1, n, 5))
        assert out.shape[1] == int(out_lengths) == -(-n // stride)
        torch.testing.assert_close(out.exp().sum(-1), torch.ones(out.shape[:2]))
    (_, out_lengths), _ = model(torch.randn(4, 10, 5), lengths=torch.tensor([1, 2, 3, 10]))  # padded batch
    assert out_lengths.tolist() == [-(-n // stride) for n in (1, 2, 3, 10)]


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("conv_channels", [0, 4])
def test_ctc_padding_does_not_change_log_probs(cell, conv_channels):
    """A sequence alone and padded (with zeros or junk) in a batch gets the same
    log-probabilities on its real frames, and the same loss."""
    torch.manual_seed(0)
    model = create_model("CTCRecognizer", vocab_size=7, n_mels=5, hidden_size=6, cell=cell,
                         conv_channels=conv_channels).eval()
    seq, other = torch.randn(1, 9, 5), torch.randn(1, 14, 5)
    batch = torch.cat([torch.cat([seq, 100 * torch.randn(1, 5, 5)], 1), other])  # junk padding
    targets = torch.tensor([[1, 2, 0], [3, 4, 5]])
    (alone, n), loss_alone = model(seq, lengths=torch.tensor([9]), targets=targets[:1])
    (padded, lengths), _ = model(batch, lengths=torch.tensor([9, 14]), targets=targets)
    assert int(lengths[0]) == int(n)
    torch.testing.assert_close(padded[0, :int(n)], alone[0], atol=1e-5, rtol=1e-5)
    (_, _), loss_first = model(batch[:1], lengths=torch.tensor([9]), targets=targets[:1])
    torch.testing.assert_close(loss_first, loss_alone, atol=1e-5, rtol=1e-5)


def test_ctc_recognizer_learns_a_toy_alignment():
    """A few dozen steps of CTC on a toy task (each label a distinct frame pattern)
    drive the loss down: the head and its loss are wired correctly."""
    torch.manual_seed(0)
    model = create_model("CTCRecognizer", vocab_size=4, n_mels=3, hidden_size=8, num_layers=1, dropout=0.0)
    opt = torch.optim.Adam(model.parameters(), lr=0.03)
    targets = torch.randint(1, 4, (16, 3))
    x = torch.nn.functional.one_hot(targets - 1, 3).float().repeat_interleave(3, dim=1)  # 3 frames a label
    first = None
    for _ in range(60):
        _, loss = model(x, targets=targets)
        first = first if first is not None else float(loss.detach())
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss.detach()) < 0.3 * first
