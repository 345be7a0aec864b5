"""Evaluating the sentiment model: SST-2 dev beside the TF-IDF baseline, the
behavioural suite (`suite`), and the off-domain sets beside TF-IDF and VADER (`peers`)."""
from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import numpy as np

from ...baselines import TFIDF_NAME, TfidfBaseline
from ...data import SOURCES, DataError, locate
from ...data.sst2 import load_split
from ..spec import make_recipe
from . import peers, suite
from .data import encode_texts, predictions
from .predictor import SentimentPredictor
from .train import SPLITS, Recipe, knowledge_examples


@functools.lru_cache(maxsize=1)
def sst2_baseline(data_dir: str | None = None) -> TfidfBaseline:
    """The TF-IDF baseline on SST-2's train file; fitted once per process, since
    ``evaluate --write-metrics`` both scores it and saves it (`write_baseline`)."""
    return TfidfBaseline.fit(*load_split("train", data_dir), "SST-2 train")


def _same_data_baseline(predictor: SentimentPredictor, texts: list[str], labels: list[int]) -> TfidfBaseline | None:
    """The bag of words trained on everything the network trained on beyond SST-2's
    phrases (lexicon words, IMDB closings), or None when it used nothing more or that
    data is not available here."""
    names = {f.name for f in dataclasses.fields(Recipe)}
    recipe = make_recipe(Recipe, {k: v for k, v in predictor.config.get("options", {}).items() if k in names})
    try:
        if recipe.imdb_tokens:
            locate(SOURCES["imdb"], download=False)
        more = knowledge_examples(recipe)
    except DataError:
        return None
    if not more[0]:
        return None
    return TfidfBaseline.fit(texts + more[0], labels + more[1], "SST-2 train + the network's extra examples")


def evaluate(weights: str | Path | None = None, data_dir: str | None = None, split: str = "dev",
             device: str = "cpu") -> dict:
    """Accuracy of the checkpoint in ``weights`` on ``split``, beside the TF-IDF baseline
    trained on SST-2's train file, both on the behavioural suite (`suite`): per
    category, and on the dev sentences that need its skills; and on the off-domain
    sets (`peers`), beside TF-IDF, TF-IDF given the network's own extra training
    examples, and VADER. SST-2's test labels are not public: ``dev`` (and ``all``, every
    labelled sentence of ``data_dir``) is what there is."""
    if split not in SPLITS:
        raise ValueError(f"sentiment has no split {split!r} (SST-2's test labels are not public); "
                         f"choose {' or '.join(SPLITS)}")
    predictor = SentimentPredictor.from_pretrained(weights)
    model = predictor.model.to(device)
    texts, labels = load_split("dev", data_dir)  # 'all' = every labelled sentence = dev
    train_texts, train_labels = load_split("train", data_dir)
    baseline = sst2_baseline(data_dir)
    tests = suite.cases()

    def network(sentences: list[str]) -> list[int]:
        return predictions(model, encode_texts(predictor.encoder, sentences, [0] * len(sentences)))

    ours = {"dev": network(texts), "suite": network([c.text for c in tests])}
    theirs = {"dev": baseline(texts).tolist(), "suite": baseline([c.text for c in tests]).tolist()}

    def figures(pred: dict) -> dict:
        subsets = {name: round(float(np.mean([pred["dev"][i] == labels[i] for i in idx])), 4)
                   for name, idx in suite.dev_subsets(texts, labels).items() if idx}
        return {"accuracy": round(float(np.mean(np.equal(pred["dev"], labels))), 4),
                "behaviour": {**suite.score(pred["suite"], tests), **subsets}}

    classifiers = {"network": network, "tfidf": baseline}
    same = _same_data_baseline(predictor, train_texts, train_labels)
    if same is not None:
        classifiers["tfidf_same_data"] = same
    vader = peers.vader_classifier()
    if vader is not None:
        classifiers["vader"] = vader
    model_figures, base_figures = figures(ours), figures(theirs)
    return {"task": SentimentPredictor.task, "split": split, "examples": len(texts),
            "accuracy": model_figures["accuracy"], "behaviour": model_figures["behaviour"],
            "suite_failures": suite.examples_of_failures(ours["suite"], tests),
            "baseline": {"name": TFIDF_NAME, **base_figures},
            "offdomain": peers.offdomain_report(classifiers),
            "parameters": predictor.parameters,
            "cell": predictor.describe()}


def write_baseline(weights: str | Path, data_dir: str | None = None) -> list[Path]:
    """Save the TF-IDF baseline `evaluate` reports (trained on SST-2's train file) beside
    the checkpoint in ``weights``: the tab shows its verdict as a second opinion."""
    sst2_baseline(data_dir).save(weights)
    return [Path(weights) / name for name in TfidfBaseline.FILES]


def offdomain_table(metrics: dict) -> str:
    """``evaluate --suite offdomain``: the off-domain sets, the network beside its peers."""
    return peers.offdomain_table(metrics["offdomain"])


def behaviour_table(metrics: dict) -> str:
    """The suite's figures of ``metrics`` (from `evaluate`) as a text table: each
    category, the model beside the baseline."""
    ours, theirs = metrics["behaviour"], metrics["baseline"].get("behaviour", {})
    rows = [("SST-2 dev, all", metrics["accuracy"], metrics["baseline"].get("accuracy"))]
    rows += [(name, v, theirs.get(name)) for name, v in ours.items()]
    width = max(len(r[0]) for r in rows)
    lines = [f"{'category':<{width}}  model  baseline"]
    lines += [f"{name:<{width}}  {v:5.3f}  {b:8.3f}" if b is not None else f"{name:<{width}}  {v:5.3f}"
              for name, v, b in rows]
    return "\n".join(lines)
