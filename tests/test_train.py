"""The shared training loop: a 2-step smoke run of the task preset, seeds, stop flag,
time budget and early stopping."""
import threading

import torch

from rnn_core.models import create_model
from rnn_core.batching import bucketed_batches
from rnn_core.tasks import TASKS
from rnn_core.train import TrainConfig, train

sentiment = TASKS["sentiment"]


def _toy():
    torch.manual_seed(0)
    seqs = [[2 + (i % 5), 3, 4][: 1 + i % 3] for i in range(64)]
    labels = [i % 2 for i in range(64)]
    model = create_model("SequenceClassifier", vocab_size=10, embed_dim=4, hidden_size=4)
    return model, (lambda epoch: bucketed_batches(seqs, labels, 16, seed=epoch)), 4


def test_two_step_smoke_of_sentiment_preset(sst2_dir):
    """Two optimiser steps of the real preset (full size) on tiny data."""
    seen = []
    _, result = sentiment.train({"epochs": 1, "batch_size": 300, "negation_share": 0, "contrast_share": 0},
                                data_dir=str(sst2_dir), on_progress=seen.append)
    assert result.steps == 2 and 0 <= result.best["accuracy"] <= 1
    assert result.tokens > 0 and seen[-1].message == "completed"


def test_same_seed_same_weights():
    runs = []
    for _ in range(2):
        model, batches, steps = _toy()
        train(model, batches, steps, lambda m: {"accuracy": 0.5}, TrainConfig(epochs=2, seed=3))
        runs.append([p.detach().clone() for p in model.parameters()])
    for a, b in zip(*runs):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_stop_flag_ends_after_one_step():
    model, batches, steps = _toy()
    stop = threading.Event()
    stop.set()
    result = train(model, batches, steps, lambda m: {"accuracy": 0.5}, TrainConfig(epochs=50), stop=stop)
    assert result.stopped == "stopped" and result.steps == 1


def test_time_budget():
    model, batches, steps = _toy()
    result = train(model, batches, steps, lambda m: {"accuracy": 0.5},
                   TrainConfig(epochs=10_000, max_minutes=0.02, patience=None))
    assert result.stopped == "time_budget" and 0.5 < result.elapsed < 20


def test_early_stopping_keeps_best_weights():
    model, batches, steps = _toy()
    scores = iter([0.9] + [0.1] * 100)
    snapshots = []

    def evaluate(m):
        snapshots.append({k: v.clone() for k, v in m.state_dict().items()})
        return {"accuracy": next(scores)}

    result = train(model, batches, steps, evaluate, TrainConfig(epochs=100, patience=2))
    assert result.stopped == "early_stopping" and result.best == {"accuracy": 0.9}
    assert len(result.history) == 3
    for k, v in model.state_dict().items():  # the weights of the first (best) validation
        torch.testing.assert_close(v, snapshots[0][k])


def test_gradient_clipping_is_applied(monkeypatch):
    calls = []
    real = torch.nn.utils.clip_grad_norm_

    def spy(params, max_norm):
        norm = real(params, max_norm)
        calls.append((float(norm), max_norm))
        return norm

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", spy)
    model, batches, steps = _toy()
    train(model, batches, steps, lambda m: {"accuracy": 0.5}, TrainConfig(epochs=1, clip=0.25))
    assert len(calls) == steps and all(max_norm == 0.25 for _, max_norm in calls)
    # after clipping, the gradient the optimiser sees is at most the bound
    total = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in model.parameters()]))
    assert total <= 0.25 + 1e-5


def test_ema_weights_are_validated_and_kept():
    model, batches, steps = _toy()
    seen = []
    result = train(model, batches, steps, lambda m: seen.append(m) or {"accuracy": len(seen)},
                   TrainConfig(epochs=2, ema=0.9, patience=None))
    assert seen and all(m is not model for m in seen)  # the averaged copy was scored
    averaged = seen[-1]  # the last validation scored best...
    for a, b in zip(model.state_dict().values(), averaged.state_dict().values()):
        torch.testing.assert_close(a, b)  # ...so the averaged weights end up in the model
    assert result.steps == 2 * steps
