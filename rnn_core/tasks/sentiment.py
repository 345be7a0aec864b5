"""Sentiment (many-to-one): SST-2 sentences -> positive / negative.

Data, encoder, model preset, training, evaluation and the predictor behind the
gallery's sentiment tab. The network reads a sentence word by word and only its
summary after the last word decides the class: that is "many-to-one".
"""
from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..baselines import tfidf_logreg
from ..checkpoint import save_pretrained
from ..data.sst2 import load_split
from ..encoders.text import WordEncoder, tokenize
from ..models import create_model
from ..train import TrainConfig, TrainResult, config_dict, train as train_loop
from .batching import bucketed_batches
from .options import Option, clamp_options
from .sentiment_predictor import MAX_WORDS, NAME, SentimentPredictor, model_card  # noqa: F401 (the tab's API)

DATA_SOURCE = "sst2"
PREDICTOR = SentimentPredictor

# The shipped model's recipe: `python -m rnn_core train sentiment` reproduces it.
# Chosen from the runs in the README ("How the sentiment model was chosen"): wider or
# deeper nets, max pooling, stronger word dropout, subwords, weight averaging,
# oversampled long phrases and 3-4 member ensembles all stayed within the seed noise.
PRESET = {"cell": "lstm", "bidirectional": True, "hidden": 192, "layers": 1, "embed": 128,
          "dropout": 0.5, "word_dropout": 0.1, "pooling": "maxlast", "epochs": 4, "lr": 2e-3,
          "batch_size": 64, "min_freq": 1, "max_minutes": None, "seed": 2, "members": 1,
          "subword_buckets": 0, "member_cells": "", "long_repeat": 0, "ema": 0.0, "half": True,
          "int8_embeddings": False}

# What a visitor may set in the retrain panel, with bounds; defaults finish in about
# 90 s on 2 vCPU.
RETRAIN_OPTIONS = {
    "cell": Option("gru", choices=("rnn", "lstm", "gru")),
    "bidirectional": Option(True),
    "hidden": Option(96, 8, 256),
    "layers": Option(1, 1, 3),
    "epochs": Option(4, 1, 20),
    "lr": Option(3e-3, 1e-5, 0.05),
    "max_minutes": Option(1.5, 0.1, 10.0),
    "embed": Option(96, 8, 256),
}


@dataclass
class Encoded:
    """Sentences as model inputs: token ids, labels, and where subwords come from.

    Training data holds only known words, so their subword ids come from the
    encoder's table with one gather per batch; evaluation data keeps each token's
    own subword ids, since an unseen word is exactly where they matter.
    """
    seqs: list[list[int]]
    labels: list[int]
    subs: list[list[list[int]]] | None = None   # per-token subword ids (evaluation data)
    table: torch.Tensor | None = None           # vocab -> subword ids (training data)
    _eval: list[dict] | None = field(default=None, repr=False)

    def batches(self, batch_size: int, seed: int | None = None) -> list[dict]:
        """Length-bucketed batches (shuffled when ``seed`` is given)."""
        batches = bucketed_batches(self.seqs, self.labels, batch_size, seed=seed, subwords=self.subs)
        if self.table is not None:
            for b in batches:
                b["subwords"] = self.table[b["x"]]
        return batches

    def with_long_repeated(self, min_len: int, copies: int) -> "Encoded":
        """The data with every sequence of ``min_len``+ tokens ``copies`` times more.

        SST-2's training phrases are mostly short fragments while dev holds whole
        sentences; repeating the long phrases moves training towards what is scored."""
        idx = [i for i, s in enumerate(self.seqs) for _ in range(1 + copies * (len(s) >= min_len))]
        return Encoded([self.seqs[i] for i in idx], [self.labels[i] for i in idx],
                       None if self.subs is None else [self.subs[i] for i in idx], self.table)

    def eval_batches(self, batch_size: int = 256) -> list[dict]:
        """Batches in the original order, built once: validation runs many times."""
        if self._eval is None:
            self._eval = self.batches(batch_size)
        return self._eval


def encode_texts(enc: WordEncoder, texts: list[str], labels: list[int], for_training: bool = False) -> Encoded:
    """Tokenise (cut at `MAX_WORDS`) and encode sentences."""
    tokens = [tokenize(t)[:MAX_WORDS] for t in texts]
    seqs = [enc.encode_tokens(ts) for ts in tokens]
    if not enc.subword_buckets:
        return Encoded(seqs, list(labels))
    if for_training:
        return Encoded(seqs, list(labels), table=enc.subword_table())
    return Encoded(seqs, list(labels), subs=[[enc.subwords(w) for w in ts] for ts in tokens])


@functools.lru_cache(maxsize=2)
def load_data(data_dir: str | None = None, min_freq: int = 1, subword_buckets: int = 0):
    """Encoder built on train, and the encoded train and dev sets. Cached: the UI's
    retrains reuse the tokenised data."""
    train_texts, train_labels = load_split("train", data_dir)
    dev_texts, dev_labels = load_split("dev", data_dir)
    enc = WordEncoder.build(train_texts, min_freq=min_freq, subword_buckets=subword_buckets)
    return (enc, encode_texts(enc, train_texts, train_labels, for_training=True),
            encode_texts(enc, dev_texts, dev_labels))


def accuracy(model, data: Encoded) -> float:
    """Share of ``data`` classified as its labels."""
    correct = 0
    with torch.no_grad():
        for b in data.eval_batches():
            logits, _ = model(b["x"], b["lengths"], subwords=b.get("subwords"))
            correct += int((logits.argmax(-1) == b["targets"]).sum())
    return correct / max(1, len(data.seqs))


def _train_one(o: dict, enc: WordEncoder, train_data: Encoded, dev_data: Encoded,
               on_progress, stop) -> tuple:
    """Train one `SequenceClassifier` with the shared loop; returns (model, result, cfg)."""
    if o["long_repeat"]:
        train_data = train_data.with_long_repeated(15, o["long_repeat"])
    torch.manual_seed(o["seed"])  # same seed -> same initial weights
    model = create_model("SequenceClassifier", vocab_size=enc.vocab_size, num_classes=2,
                         embed_dim=o["embed"], hidden_size=o["hidden"], num_layers=o["layers"],
                         cell=o["cell"], bidirectional=o["bidirectional"], dropout=o["dropout"],
                         pooling=o["pooling"], word_dropout=o["word_dropout"],
                         subword_buckets=enc.subword_buckets)
    steps = (len(train_data.seqs) + o["batch_size"] - 1) // o["batch_size"]
    cfg = TrainConfig(epochs=o["epochs"], lr=o["lr"], max_minutes=o["max_minutes"], seed=o["seed"],
                      eval_every=max(50, steps // 4), patience=6, ema=o["ema"] or None)
    result = train_loop(
        model, lambda epoch: train_data.batches(o["batch_size"], seed=o["seed"] * 1000 + epoch),
        steps, lambda m: {"accuracy": accuracy(m, dev_data)}, cfg,
        on_progress=on_progress, stop=stop, count_tokens=lambda b: int(b["lengths"].sum()))
    return model, result, cfg


def train(options: dict | None = None, data_dir: str | None = None, out_dir: str | Path | None = None,
          on_progress=None, stop: threading.Event | None = None) -> tuple["SentimentPredictor", TrainResult]:
    """Train a sentiment model on SST-2 train, validating on dev.

    Args:
        options: overrides of `PRESET` (cell, hidden, layers, epochs, lr, ...).
            ``members`` > 1 trains that many networks with seeds seed, seed+1, ...
            (each with ``max_minutes / members``) and ships them as an ensemble;
            ``member_cells`` ("lstm,gru") gives them cells in turn, for diversity.
        out_dir: where to save the checkpoint (None: keep it in memory only).

    Returns:
        (a predictor around the best weights, the training result)
    """
    o = {**PRESET, **(options or {})}
    enc, train_data, dev_data = load_data(None if data_dir is None else str(data_dir), o["min_freq"],
                                          o["subword_buckets"])
    k = max(1, int(o["members"]))
    models, results = [], []
    for i in range(k):
        if i and stop is not None and stop.is_set():
            break  # keep the members trained so far
        cells = [c.strip() for c in o["member_cells"].split(",") if c.strip()] or [o["cell"]]
        member = {**o, "seed": o["seed"] + i, "cell": cells[i % len(cells)],
                  "max_minutes": o["max_minutes"] / k if o["max_minutes"] else None}

        def report(p, i=i):  # progress over the whole ensemble, not one member
            if on_progress:
                p.fraction = (i + p.fraction) / k
                p.message = f"member {i + 1}/{k}: {p.message}" if k > 1 and p.message else p.message
                on_progress(p)

        model, result, cfg = _train_one(member, enc, train_data, dev_data, report, stop)
        models.append(model)
        results.append(result)
    if len(models) > 1:
        model = create_model("EnsembleClassifier", members=[m.model_args for m in models])
        for dst, src in zip(model.members, models):
            dst.load_state_dict(src.state_dict())
        model.eval()
        result = TrainResult(best={"accuracy": accuracy(model, dev_data)},
                             history=[h for r in results for h in r.history],
                             steps=sum(r.steps for r in results), elapsed=sum(r.elapsed for r in results),
                             stopped=results[-1].stopped, tokens=sum(r.tokens for r in results))
        result.best["members"] = [r.best["accuracy"] for r in results]
    extra = {"options": o, "train": config_dict(cfg),
             "data": f"SST-2 train.tsv ({len(train_data.seqs):,} phrases), validated on dev.tsv",
             "result": {"best": result.best, "steps": result.steps, "stopped": result.stopped,
                        "minutes": round(result.elapsed / 60, 2)}}
    predictor = SentimentPredictor(model, enc, {"task": NAME, **extra})
    if out_dir is not None:
        save_pretrained(model, out_dir, NAME, enc.to_dict(), extra, half=o["half"],
                        int8_embeddings=o["int8_embeddings"])
    return predictor, result


def evaluate(weights: str | Path | None = None, data_dir: str | None = None, split: str = "dev") -> dict:
    """Accuracy of the checkpoint in ``weights`` on ``split``, beside the TF-IDF baseline
    trained on the same train file."""
    if split == "test":
        raise ValueError("SST-2's test labels are not public; report dev (--split dev)")
    predictor = SentimentPredictor.from_pretrained(weights)
    texts, labels = load_split("dev", data_dir)  # 'all' = every labelled sentence = dev
    train_texts, train_labels = load_split("train", data_dir)
    return {"task": NAME, "split": split, "examples": len(texts),
            "accuracy": round(accuracy(predictor.model, encode_texts(predictor.encoder, texts, labels)), 4),
            "baseline": tfidf_logreg(train_texts, train_labels, texts, labels),
            "parameters": predictor.parameters,
            "cell": predictor.describe()}


def retrain_options(values: dict) -> tuple[dict, list[str]]:
    """Clamp a visitor's retrain settings to `RETRAIN_OPTIONS`; returns (options, notes).

    A retrain is always one plain network (no ensemble, no subwords), whatever the
    shipped preset uses, so that it fits its time budget."""
    options, notes = clamp_options(values, RETRAIN_OPTIONS)
    return {**options, "members": 1, "subword_buckets": 0}, notes


BENCH_SENTENCE = ("the film opens with a quiet , patient stretch that some viewers will find slow , "
                  "but the performances are so warm and the writing so sharp that by the end you "
                  "are moved , amused and quite surprised .")  # 40 tokens


def bench(weights: str | Path | None = None, repeats: int = 200, retrain: bool = False,
          data_dir: str | None = None) -> dict:
    """Print and return latency of one prediction and training throughput; with
    ``retrain``, also run the UI's default retrain and report its time and accuracy."""
    import random

    from ..bench import describe_machine, time_calls, train_throughput

    predictor = SentimentPredictor.from_pretrained(weights)
    n_words = len(tokenize(BENCH_SENTENCE))
    plain = time_calls(lambda: predictor.predict(BENCH_SENTENCE, explain=False), repeats)
    full = time_calls(lambda: predictor.predict(BENCH_SENTENCE, explain=True), max(10, repeats // 10))
    rng = random.Random(0)
    seqs = [[rng.randrange(2, predictor.encoder.vocab_size) for _ in range(rng.randint(3, 40))]
            for _ in range(64 * 21)]
    model = create_model(predictor.model.architecture, **predictor.model.model_args)
    subs = [[predictor.encoder.subwords(predictor.encoder.vocab[i]) for i in s] for s in seqs] \
        if predictor.encoder.subword_buckets else None
    tps = train_throughput(model, bucketed_batches(seqs, [0] * len(seqs), 64, seed=0, subwords=subs),
                           lambda b: int(b["lengths"].sum()))
    print(f"machine: {describe_machine()}; model: {predictor.describe()}")
    print(f"one prediction, {n_words}-word sentence: p50 {plain['p50_ms']:.2f} ms, "
          f"p95 {plain['p95_ms']:.2f} ms (n={plain['n']})")
    print(f"prediction + running verdict + occlusion ({2 * n_words + 1} sequences): "
          f"p50 {full['p50_ms']:.1f} ms, p95 {full['p95_ms']:.1f} ms (n={full['n']})")
    print(f"training throughput: {tps:,.0f} tokens/s (batch 64, 3-40 tokens)")
    out = {"predict": plain, "predict_explained": full, "train_tokens_per_s": tps}
    if retrain:
        import time

        options, _ = retrain_options({})
        t = time.perf_counter()
        _, result = train(options, data_dir=data_dir)
        out["retrain"] = {"seconds": time.perf_counter() - t, "accuracy": result.best["accuracy"]}
        print(f"retrain with the UI's defaults ({options['cell']}, hidden {options['hidden']}, "
              f"{options['epochs']} epochs, budget {options['max_minutes']} min): "
              f"{out['retrain']['seconds']:.0f} s including data loading, "
              f"dev accuracy {result.best['accuracy']:.3f}")
    return out
