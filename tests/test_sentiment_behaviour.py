"""The sentiment behavioural suite, the negation/contrast training phrases, and how
the tab says a verdict is a guess."""
import json
from collections import Counter

import pytest

from rnn_core.__main__ import main
from rnn_core.encoders.text import tokenize
from rnn_core.tasks import TASKS
from rnn_core.tasks.sentiment import augment, suite
from rnn_core.tasks.sentiment.predictor import SentimentPredictor


def test_suite_is_large_fixed_and_labelled_by_category():
    cases = suite.cases()
    assert len(cases) >= 300 and cases == suite.cases()
    counts = Counter(c.category for c in cases)
    assert set(counts) == set(suite.CATEGORIES) and min(counts.values()) >= 50
    assert len({c.text for c in cases}) == len(cases)
    by_text = {c.text: c for c in cases}
    # spot checks of the labels a reader gives
    for c in cases:
        words = {t.lower() for t in tokenize(c.text)}
        if c.category == "negated negative":
            assert c.label == 1 and words & suite.NEGATIONS
        if c.category == "negated positive":
            assert c.label == 0 and words & suite.NEGATIONS
        if c.category.startswith("contrast"):
            second = c.text.split("but")[-1]
            assert any(w in tokenize(second) for w in (suite.POSITIVE if c.label else suite.NEGATIVE))
    assert len(by_text) == len(cases)


def test_score_failures_and_dev_subsets():
    cases = suite.cases(per_category=4)
    right = [c.label for c in cases]
    assert set(suite.score(right, cases).values()) == {1.0}
    wrong = [1 - y for y in right]
    assert set(suite.score(wrong, cases).values()) == {0.0}
    fails = suite.examples_of_failures(wrong, cases, per_category=2)
    assert len(fails) == 2 * len(suite.CATEGORIES)
    assert {f["expected"] for f in fails} <= {"positive", "negative"}
    texts = ["it is not good", "never dull , always fun", "fine , but long", "a delight"]
    subsets = suite.dev_subsets(texts, [0, 1, 0, 1])
    assert subsets == {"dev: negation, positive": [1], "dev: negation, negative": [0], "dev: contrast": [2]}


def test_training_phrases_flip_negations_and_keep_the_suite_apart(sst2_dir):
    from rnn_core.data.sst2 import load_split

    texts, labels = load_split("train", str(sst2_dir))
    label_of = {" ".join(t.lower() for t in tokenize(x)): y for x, y in zip(texts, labels)}
    negated = augment.negations(texts, labels, 50, seed=0)
    assert len(negated) == 50 and negated == augment.negations(texts, labels, 50, seed=0)
    for text, label in negated:
        # the negated phrase is a training phrase, and the label is its opposite
        inner = [p for p in label_of if len(p.split()) <= 3 and f" {p} " in f" {text} "]
        assert inner and any(label_of[p] == 1 - label for p in inner)
    joined = augment.contrasts(texts, labels, 40, seed=1)
    assert len(joined) == 40 and {y for _, y in joined} == {0, 1}
    # nothing the suite is made of: its subjects, templates' negated words, film words
    suite_words = set(suite.POSITIVE) | set(suite.NEGATIVE) | set(suite.NEGATABLE) | set(suite.FILMS)
    for text, _ in negated + joined:
        assert not set(text.split()) & suite_words
    # the templates' own subjects are not the suite's (SST-2's phrases may still name "the plot")
    assert not set(augment.SUBJECTS) & {part for part, _ in suite.PARTS}


def test_augmented_training_runs_and_says_what_it_added(sst2_dir):
    predictor, _ = TASKS["sentiment"].train({"cell": "gru", "hidden": 8, "embed": 8, "epochs": 1,
                                             "negation_share": 0.05, "contrast_share": 0.1},
                                            data_dir=str(sst2_dir))
    assert "+ 90 made from them" in predictor.config["data"]  # 5% and 10% of 600 phrases


def test_distillation_learns_the_teachers_probabilities(tiny_sentiment, sst2_dir):
    from rnn_core.data.sst2 import load_split
    from rnn_core.tasks.sentiment.data import load_data
    from rnn_core.tasks.sentiment.train import distilled

    enc, train_data, _ = load_data(str(sst2_dir), more_words=("unrelated", "words"))  # the teacher's vocabulary differs
    texts = load_split("train", str(sst2_dir))[0]
    soft = distilled(train_data, texts, [str(tiny_sentiment)] * 2, share=0.5)
    assert len(soft.labels) == len(train_data.labels)
    for (p_neg, p_pos), hard in zip(soft.labels, train_data.labels):
        assert p_neg + p_pos == pytest.approx(1.0, abs=1e-5) and (p_pos > 0.5) == (hard == 1)  # half is the label
    teacher = SentimentPredictor.from_pretrained(tiny_sentiment)
    for i in (0, 5):  # the teacher's own reading of the text, whatever the student's vocabulary
        said = teacher.predict(texts[i], explain=False)["p_positive"]
        assert soft.labels[i][1] == pytest.approx(0.5 * said + 0.5 * train_data.labels[i], abs=1e-5)
    batch = soft.batches(8)[0]
    assert batch["targets"].dtype.is_floating_point and batch["targets"].shape[1] == 2
    predictor, _ = TASKS["sentiment"].train({"cell": "gru", "hidden": 8, "embed": 8, "epochs": 1,
                                             "teachers": str(tiny_sentiment)}, data_dir=str(sst2_dir))
    assert predictor.config["options"]["teachers"] == str(tiny_sentiment)


def test_evaluate_gives_the_suite_beside_the_baseline(tiny_sentiment, sst2_dir, capsys):
    assert main(["evaluate", "sentiment", "--weights", str(tiny_sentiment), "--data", str(sst2_dir),
                 "--suite", "behaviour", "--json"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    metrics = json.loads(out[-1])
    assert set(suite.CATEGORIES) <= set(metrics["behaviour"]) <= set(metrics["behaviour"]) | {
        "dev: negation, positive", "dev: negation, negative", "dev: contrast"}
    assert set(metrics["baseline"]["behaviour"]) == set(metrics["behaviour"])
    assert all(0 <= v <= 1 for v in metrics["behaviour"].values())
    table = "\n".join(out[:-1])
    assert "model  baseline" in table and all(name in table for name in suite.CATEGORIES)


@pytest.mark.parametrize("text, guess", [("!!! ??? ...", True), ("Zyxqv blorf snargle.", True),
                                          ("the story is a great film", False)])
def test_a_verdict_from_unknown_words_is_called_a_guess(tiny_sentiment, text, guess):
    r = SentimentPredictor.from_pretrained(tiny_sentiment).predict(text)
    assert r["guess"] is guess
    assert any("guess" in n for n in r["notes"]) is guess
