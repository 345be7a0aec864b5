"""Training and evaluating the sentiment model (many-to-one): SST-2 sentences ->
positive / negative.

The network reads a sentence word by word and only its summary after the last word
decides the class: that is "many-to-one".
"""
from __future__ import annotations

import dataclasses
import json
import threading
from dataclasses import dataclass
from pathlib import Path

import torch

from ...data.sst2 import load_split
from ...fit import Plan, conclude, fit_model
from ...models import create_model
from ...runtime import Runtime, evaluating
from ...train import TrainResult
from ..spec import Metric, make_recipe
from ...encoders.text import WordEncoder
from ...data.reviews import load_imdb
from . import augment, lexicon, pretrain, reviews, vectors
from .data import Encoded, accuracy, encode_texts, load_data
from .predictor import SentimentPredictor

METRIC = Metric("accuracy", "dev accuracy", higher_is_better=True)
SPLITS = ("dev", "all")


@dataclass
class Recipe:
    """The shipped model's recipe. `python -m rnn_core train sentiment` trains it
    without its teachers; the shipped network also learned from four (``--teachers``,
    README "How the sentiment model was chosen" gives the five commands).

    Chosen from the runs in the README: wider or deeper nets, max pooling, stronger
    word dropout, subwords, weight averaging, oversampled long phrases and 3-4 member
    ensembles trained together all stayed within the seed noise; training phrases made
    for negation and contrast (`augment`) taught the behavioural suite at a small cost
    on dev, which distilling an ensemble of plain and augmented networks won back.
    """
    cell: str = "lstm"
    bidirectional: bool = True
    hidden: int = 192                 # units per direction
    layers: int = 1
    embed: int = 128                  # embedding size
    dropout: float = 0.5
    word_dropout: float = 0.1         # share of words replaced by <unk> in training
    pooling: str = "maxlast"
    epochs: int = 4
    lr: float = 2e-3                  # peak learning rate (cosine decay)
    batch_size: int = 64
    min_freq: int = 1                 # rarer words are <unk>
    max_minutes: float | None = None  # wall-clock budget
    seed: int = 2
    members: int = 1                  # > 1: an ensemble of that many networks
    subword_buckets: int = 0          # hashed character n-grams per word (0: none)
    member_cells: str = ""            # "lstm,gru": the members' cells in turn
    long_repeat: int = 0              # extra copies of phrases of 15+ tokens
    ema: float = 0.0                  # weight averaging decay (0: off)
    negation_share: float = 0.15      # extra training phrases "not <phrase>", label flipped (`augment`),
    contrast_share: float = 0.15      # and "<phrase>, but <phrase>", each this share of the training set
    phrase_polarity: float = 2.0      # made phrases only from phrases this clearly polar (`augment`)
    teachers: str = ""                # checkpoint folders, comma-separated: learn their mean probabilities too
    teacher_share: float = 0.5        # each target = share x the teachers' probabilities + the rest x the label
    half: bool = True                 # store the weights as float16
    int8_embeddings: bool = False     # store the embedding table as int8
    vectors: bool = False             # start the embeddings from word2vec trained on IMDB + SST-2 (`vectors`)
    freeze_vectors: bool = False      # keep the pretrained vectors as they are (words SST-2 lacks stay in their space)
    corpus_words: int = 0             # the IMDB corpus's N most frequent words join SST-2's vocabulary
    lexicon_copies: int = 0           # VADER's clearly rated words as one-word examples, this many times (`lexicon`)
    imdb_tokens: int = 0              # > 0: each IMDB review's closing sentences (up to N tokens) as an example (`reviews`)
    imdb_pieces: int = 0              # and this many more pieces of each review, of up to imdb_tokens tokens, labelled as the review
    lm_minutes: float = 0.0           # > 0: the body first learns IMDB + SST-2 as a language model this long (`pretrain`)


# Named recipes (`TaskSpec.presets`, ``train sentiment --preset NAME``): recipe fields over
# the defaults. tiny: seconds on one core (one small network, one pass, no made phrases,
# no clock); large: for a GPU.
PRESETS = {
    "tiny": {"cell": "gru", "hidden": 16, "embed": 16, "dropout": 0.0, "word_dropout": 0.0, "epochs": 1,
             "batch_size": 32, "negation_share": 0.0, "contrast_share": 0.0, "half": False},
    "default": {},
    "large": {"hidden": 384, "layers": 2, "embed": 256, "batch_size": 128},
}


def member_plan(r: Recipe, enc: WordEncoder, train_data: Encoded, dev_data: Encoded, data: str,
                init=None) -> Plan:
    """One `SequenceClassifier` of recipe ``r`` (`rnn_core.fit`); ``init``: pretrained
    weights for some of its tensors by name (word vectors as ``embed.weight``, a
    language model's body)."""
    if r.long_repeat:
        train_data = train_data.with_long_repeated(15, r.long_repeat)

    def network():
        model = create_model("SequenceClassifier", vocab_size=enc.vocab_size, num_classes=2,
                             embed_dim=r.embed, hidden_size=r.hidden, num_layers=r.layers,
                             cell=r.cell, bidirectional=r.bidirectional, dropout=r.dropout,
                             pooling=r.pooling, word_dropout=r.word_dropout,
                             subword_buckets=enc.subword_buckets)
        if init:  # pretrained word vectors or body
            unexpected = model.load_state_dict(init, strict=False).unexpected_keys
            if unexpected:
                raise ValueError(f"pretrained tensors the network lacks: {sorted(unexpected)}")
            model.embed.weight.requires_grad_(not r.freeze_vectors)
        return model

    steps = (len(train_data.seqs) + r.batch_size - 1) // r.batch_size
    return Plan(encoder=enc, network=network, steps_per_epoch=steps,
                epoch_batches=lambda epoch: train_data.batches(r.batch_size, seed=r.seed * 1000 + epoch),
                validate=lambda m: {"accuracy": accuracy(m, dev_data)}, metric=METRIC,
                count=lambda b: int(b["lengths"].sum()), data=data,
                loop={"eval_every": max(50, steps // 4), "patience": 6, "ema": r.ema or None},
                save={"half": r.half, "int8_embeddings": r.int8_embeddings})


def distilled(data: Encoded, texts: list[str], teachers: list[str], share: float) -> Encoded:
    """``data`` (the encoded ``texts``) with soft targets: each label mixed with the
    mean class probabilities of the ``teachers`` (checkpoint folders; each reads the
    texts with its own vocabulary), so that one network learns what an ensemble of
    them says (knowledge distillation)."""
    if len(texts) != len(data.seqs):
        raise ValueError(f"{len(texts)} texts for {len(data.seqs)} encoded examples")
    probs, encoded = 0.0, {}  # teachers of one vocabulary share its encoding of the texts
    for folder in teachers:
        teacher = SentimentPredictor.from_pretrained(folder)
        key = json.dumps(teacher.encoder.to_dict())
        if key not in encoded:
            encoded[key] = encode_texts(teacher.encoder, texts, data.labels)
        theirs = encoded[key]
        with evaluating(teacher.model):
            out = torch.cat([torch.softmax(teacher.model(b["x"], lengths=b["lengths"], subwords=b.get("subwords"))[0], -1)
                             for b in theirs.batches(512)])  # no seed: in order
        probs = probs + out / len(teachers)
    hard = torch.nn.functional.one_hot(torch.tensor(data.labels), 2).float()
    soft = (share * probs + (1 - share) * hard).tolist()
    return Encoded(data.seqs, soft, data.subs, data.table)


def knowledge_examples(r: Recipe) -> tuple[list[str], list[int]]:
    """The recipe's training examples from beyond SST-2: lexicon words
    (``lexicon_copies``), IMDB reviews' closing sentences (``imdb_tokens``) and
    more pieces of them (``imdb_pieces``)."""
    rated = lexicon.rated_words() if r.lexicon_copies else ([], [])
    texts, labels = rated[0] * r.lexicon_copies, rated[1] * r.lexicon_copies
    if r.imdb_tokens:
        more = reviews.review_examples(*load_imdb(), r.imdb_tokens, r.imdb_pieces, r.seed)
        texts, labels = texts + more[0], labels + more[1]
    return texts, labels


def training_data(r: Recipe, data_dir: str | None = None) -> tuple:
    """Recipe ``r``'s vocabulary and data: (encoder, training set (with its made phrases,
    knowledge examples and teachers' soft targets), dev set, pretrained tensors by name
    (word vectors, a language model's body; {} for none), one sentence on the data for
    the record)."""
    words, vecs = vectors.cached_vectors(r.embed, sst_dir=data_dir) if r.vectors or r.corpus_words else ([], None)
    rated = lexicon.rated_words() if r.lexicon_copies else ([], [])
    enc, train_data, dev_data = load_data(None if data_dir is None else str(data_dir), r.min_freq,
                                          r.subword_buckets, tuple(words[:r.corpus_words] + rated[0]))
    init = {"embed.weight": torch.from_numpy(vectors.embedding_init(enc.vocab, words, vecs)[0])} if r.vectors else {}
    if r.lm_minutes:
        if r.layers != 1 or not r.bidirectional:
            raise ValueError("language-model pretraining is written for one bidirectional layer")
        # One language model per vocabulary and settings (its own seed): runs of other seeds share it.
        init = pretrain.cached_pretrain(enc, r.embed, r.hidden, r.cell, r.lm_minutes, init, sst_dir=data_dir)
    texts, labels = load_split("train", data_dir)
    every_text = list(texts)  # in train_data's order, for the teachers
    knowledge = knowledge_examples(r)
    if knowledge[0]:
        train_data = train_data.plus(encode_texts(enc, *knowledge, for_training=True))
        every_text += knowledge[0]
    extra = []
    if r.negation_share or r.contrast_share:
        extra = (augment.negations(texts, labels, round(r.negation_share * len(texts)), r.seed, r.phrase_polarity)
                 + augment.contrasts(texts, labels, round(r.contrast_share * len(texts)), r.seed, r.phrase_polarity))
        train_data = train_data.plus(encode_texts(enc, [t for t, _ in extra], [y for _, y in extra],
                                                  for_training=True))
        every_text += [t for t, _ in extra]
    if r.teachers:
        train_data = distilled(train_data, every_text, [t.strip() for t in r.teachers.split(",") if t.strip()],
                               r.teacher_share)
    more = f" + {len(knowledge[0]):,} from beyond it (lexicon words, IMDB reviews)" if knowledge[0] else ""
    made = f" + {len(extra):,} made from them (negation, contrast)" if extra else ""
    data = f"SST-2 train.tsv ({len(texts):,} phrases{more}{made}), validated on dev.tsv"
    return enc, train_data, dev_data, init, data


def train(options: dict | None = None, data_dir: str | None = None, out_dir: str | Path | None = None,
          on_progress=None, stop: threading.Event | None = None, runtime: Runtime | None = None,
          max_steps: int | None = None) -> tuple["SentimentPredictor", TrainResult]:
    """Train a sentiment model on SST-2 train, validating on dev.

    Args:
        options: `Recipe` fields to change (cell, hidden, layers, epochs, lr, ...).
            ``members`` > 1 trains that many networks with seeds seed, seed+1, ...
            (each with ``max_minutes / members``, and ``max_steps`` each) and ships
            them as an ensemble; ``member_cells`` ("lstm,gru") gives them cells in
            turn, for diversity.
        out_dir: where to save the checkpoint (None: keep it in memory only).

    Returns:
        (a predictor around the best weights, the training result)
    """
    r = make_recipe(Recipe, options)
    enc, train_data, dev_data, init, data = training_data(r, data_dir)
    k = max(1, int(r.members))
    models, results = [], []
    for i in range(k):
        if i and stop is not None and stop.is_set():
            break  # keep the members trained so far
        cells = [c.strip() for c in r.member_cells.split(",") if c.strip()] or [r.cell]
        member = dataclasses.replace(r, seed=r.seed + i, cell=cells[i % len(cells)],
                                     max_minutes=r.max_minutes / k if r.max_minutes else None)

        def report(p, i=i):  # progress over the whole ensemble, not one member
            if on_progress:
                p.fraction = (i + p.fraction) / k
                p.message = f"member {i + 1}/{k}: {p.message}" if k > 1 and p.message else p.message
                on_progress(p)

        plan = member_plan(member, enc, train_data, dev_data, data, init)
        model, result, cfg = fit_model(plan, member, on_progress=report, stop=stop, runtime=runtime,
                                       max_steps=max_steps)
        models.append(model)
        results.append(result)
    if len(models) > 1:
        model, result = ensemble(models, results, dev_data)
    return conclude(plan, SentimentPredictor, r, cfg, model, result, out_dir), result


def ensemble(models: list, results: list[TrainResult], dev_data: Encoded) -> tuple:
    """The trained members as one `EnsembleClassifier`, and one result for them all
    (steps, time and items summed; the ensemble's dev accuracy, and each member's)."""
    model = create_model("EnsembleClassifier", members=[m.model_args for m in models])
    for dst, src in zip(model.members, models):
        dst.load_state_dict(src.state_dict())
    model.eval()
    result = TrainResult(best={"accuracy": accuracy(model, dev_data)},
                         history=[h for res in results for h in res.history],
                         steps=sum(res.steps for res in results), elapsed=sum(res.elapsed for res in results),
                         stopped=results[-1].stopped, tokens=sum(res.tokens for res in results),
                         runtime=results[-1].runtime)
    # .get: under torchrun only rank 0 validates, so the other ranks' members have no best
    result.best["members"] = [res.best.get("accuracy") for res in results]
    return model, result
