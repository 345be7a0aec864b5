"""Sentiment beyond SST-2: the tokenizer's everyday-English rules, the IMDB and
off-domain data layers (made from their canonical archives), the lexicon, review
closings, word vectors, the saved bag-of-words baseline and the off-domain report."""
from __future__ import annotations

import numpy as np
import pytest

from rnn_core.baselines import TfidfBaseline
from rnn_core.data import SOURCES, DataError, prepare
from rnn_core.data.reviews import load_imdb, load_offdomain
from rnn_core.encoders.text import is_word, normalize, tokenize
from rnn_core.tasks.sentiment import lexicon, peers, reviews, vectors


def test_tokenizer_reads_everyday_english():
    assert tokenize("I dont like it :( but :-) ok <3") == ["I", "do", "n't", "like", "it", ":(", "but", ":-)",
                                                           "ok", "<3"]
    assert tokenize("it isnt bad, cant complain") == ["it", "is", "n't", "bad", ",", "ca", "n't", "complain"]
    assert ":/" not in tokenize("see http://example.com now")  # a URL is no emoticon
    assert tokenize("Note:Do it") == ["Note", ":", "Do", "it"]
    assert normalize("Sooooo") == "soo" and normalize("GOOOOD") == "good" and normalize("good") == "good"
    assert [t for t in tokenize("Great, isn't it?! :)") if is_word(t)] == ["Great", "is", "n't", "it", ":)"]


def test_imdb_csv_made_from_the_archive_layout(tmp_path):
    root = tmp_path / "imdb"
    for part, label, text in (("train", "pos", "Loved it.<br /><br />A must see."), ("test", "neg", "Dull, \"awful\".")):
        (root / part / label).mkdir(parents=True)
        (root / part / label / "0_9.txt").write_text(text, encoding="utf-8")
    prepare.imdb_csv(root)
    assert SOURCES["imdb"].is_complete(root)
    assert load_imdb(root) == (["Loved it.  A must see.", 'Dull, "awful".'], [1, 0])


def test_offdomain_tsvs_keep_only_clear_ratings(tmp_path):
    root = tmp_path / "offdomain"
    root.mkdir()
    (root / "amazonReviewSnippets_GroundTruth.txt").write_text("1_1\t-2.5\tbroke in a week\n1_2\t0.4\tit is a player\n")
    (root / "tweets_GroundTruth.txt").write_text("1\t1.2\tso happy\n2\t-0.9\tmeh\n")
    prepare.vader_tsvs(root)
    assert load_offdomain("amazon-snippets", root) == (["broke in a week"], [0])
    assert load_offdomain("tweets", root) == (["so happy"], [1])
    with pytest.raises(DataError):
        load_offdomain("restaurants", root)


def test_lexicon_words_are_single_tokens(tmp_path):
    path = tmp_path / "lexicon.txt"
    path.write_text("overpriced\t-1.9\t0.5\t[]\n:)\t2.0\t0.5\t[]\nokay\t0.9\t0.5\t[]\n(-:\t1.6\t0.5\t[]\n"
                    "Sooo\t1.2\t0.5\t[]\n")
    assert lexicon.rated_words(1.0, path) == (["overpriced", ":)", "soo"], [0, 1, 1])


def test_review_closing_sentences():
    review = "The plot follows a man. He goes home. It is a masterpiece! Ten out of ten."
    assert reviews.closing_sentences(review, 10) == "It is a masterpiece! Ten out of ten."
    assert reviews.closing_sentences(review, 9) == "Ten out of ten."
    assert reviews.closing_sentences("one very long last sentence without end", 3) == "sentence without end"
    assert reviews.pieces(review, 9) == ["The plot follows a man.", "He goes home. It is a masterpiece!",
                                         "Ten out of ten."]
    assert reviews.pieces("one very long sentence. Short.", 3) == ["one very long", "Short."]
    texts, labels = reviews.review_examples([review, "Dull. Avoid."], [1, 0], 9, more_pieces=5)
    assert texts[:2] == ["Ten out of ten.", "Dull. Avoid."] and labels == [1, 0, 1, 1]
    assert sorted(texts[2:]) == ["He goes home. It is a masterpiece!", "The plot follows a man."]


def test_embedding_init_copies_known_words_and_scales():
    words, vecs = ["good", "bad"], np.array([[2.0, 0.0], [0.0, -2.0]], dtype=np.float32)
    table, found = vectors.embedding_init(["<pad>", "<unk>", "bad", "unseen"], words, vecs, std=1.0)
    assert found == 1 and table.shape == (4, 2)
    assert np.all(table[:2] == 0)
    np.testing.assert_allclose(table[2], vecs[1] / vecs.std())


def test_word_vectors_train_on_a_tiny_corpus():
    pytest.importorskip("gensim")
    sentences = [["a", "good", "film"], ["a", "bad", "film"]] * 50
    words, vecs = vectors.train_vectors(sentences, dim=8, min_count=1, workers=1)
    assert set(words) == {"a", "good", "bad", "film"} and vecs.shape == (4, 8)


def test_tfidf_baseline_saves_and_loads(tmp_path):
    texts = ["a great film", "a dull film", "great fun", "dull and flat"] * 5
    labels = [1, 0, 1, 0] * 5
    baseline = TfidfBaseline.fit(texts, labels, "tiny")
    baseline.save(tmp_path)
    loaded = TfidfBaseline.load(tmp_path)
    probe = ["great", "so DULL", "unseen words"]
    np.testing.assert_allclose(loaded.p_positive(probe), baseline.p_positive(probe), atol=1e-6)
    assert loaded(probe)[:2].tolist() == [1, 0] and loaded.data == "tiny"


def test_offdomain_report(tmp_path, monkeypatch):
    monkeypatch.setenv("RNN_GALLERY_DATA", str(tmp_path))
    monkeypatch.setenv("RNN_GALLERY_CACHE", str(tmp_path / "cache"))
    assert "missing" in peers.offdomain_report({"x": lambda t: [1] * len(t)})  # never downloads
    root = tmp_path / "offdomain"
    root.mkdir()
    for name in ("amazon-snippets", "tweets"):
        (root / f"{name}.tsv").write_text("sentence\tlabel\ngood\t1\nbad\t0\n")
    report = peers.offdomain_report({"always positive": lambda t: [1] * len(t),
                                     "reads": lambda t: [int(s == "good") for s in t]})
    assert report["tweets"] == {"examples": 2, "always positive": 0.5, "reads": 1.0}
    assert report["mean"] == {"always positive": 0.5, "reads": 1.0}
    assert "always positive" in peers.offdomain_table(report)


def test_predictor_counts_words_not_punctuation(tiny_sentiment):
    from rnn_core.tasks.sentiment.predictor import SentimentPredictor

    p = SentimentPredictor.from_pretrained(tiny_sentiment)
    r = p.predict("great , zzzq !!!")
    assert r["words"] == 2 and r["unknown"] == ["zzzq"]
    assert any("1 of 2 words were never seen" in n for n in r["notes"])
    only = p.predict("!!! ???")
    assert only["words"] == 0 and only["guess"]


def test_second_opinion_from_the_saved_bag_of_words(tiny_sentiment, sst2_dir, tmp_path):
    import shutil

    from rnn_core.tasks.sentiment.metrics import write_baseline
    from rnn_core.tasks.sentiment.predictor import SentimentPredictor

    folder = tmp_path / "model"
    shutil.copytree(tiny_sentiment, folder)
    assert SentimentPredictor.from_pretrained(folder).second_opinion("great") is None
    written = write_baseline(folder, str(sst2_dir))
    assert all(p.exists() for p in written)
    p = SentimentPredictor.from_pretrained(folder)
    assert p.second_opinion("great great wonderful") > 0.5 > p.second_opinion("dull awful boring")


def test_language_model_pretraining_starts_the_classifier(tmp_path, monkeypatch, sst2_dir):
    """ULMFiT's order: the body learns to predict words, then the classifier starts
    from exactly those weights (cached, so a second run reuses them)."""
    import csv

    import torch

    from rnn_core.tasks.sentiment import pretrain
    from rnn_core.tasks.sentiment.data import load_data
    from rnn_core.tasks.sentiment.train import member_plan, training_data, Recipe

    monkeypatch.setenv("RNN_GALLERY_DATA", str(tmp_path))
    monkeypatch.setenv("RNN_GALLERY_CACHE", str(tmp_path / "cache"))
    (tmp_path / "imdb").mkdir()
    with open(tmp_path / "imdb" / "imdb.csv", "w", newline="", encoding="utf-8") as f:
        rows = [("a good film , a good cast .", "positive"), ("a dull film , a dull plot .", "negative")] * 100
        csv.writer(f).writerows([("review", "sentiment"), *rows])
    enc = load_data(str(sst2_dir))[0]
    stream = pretrain.token_stream(enc, str(sst2_dir))
    torch.manual_seed(0)
    lm = pretrain.BidirectionalLM(enc.vocab_size, 8, 8, "lstm", pretrain.frequent_ids(stream, enc.vocab_size, 4000))
    lm.eval()
    with torch.no_grad():
        first = float(lm(stream[:640].view(10, 64))[1])
    lm = pretrain.pretrain(enc, 8, 8, "lstm", minutes=5, seed=0, sst_dir=str(sst2_dir), max_steps=100,
                           log=lambda s: None)
    with torch.no_grad():
        assert float(lm.eval()(stream[:640].view(10, 64))[1]) < 0.8 * first

    r = Recipe(cell="lstm", hidden=8, embed=8, lm_minutes=0.01, negation_share=0, contrast_share=0)
    enc, train_data, dev_data, init, _ = training_data(r, str(sst2_dir))
    assert set(init) == {"embed.weight", "rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0",
                         "rnn.weight_ih_l0_reverse", "rnn.weight_hh_l0_reverse", "rnn.bias_ih_l0_reverse",
                         "rnn.bias_hh_l0_reverse"}
    network = member_plan(r, enc, train_data, dev_data, "tiny", init).network()
    assert torch.equal(network.rnn.weight_hh_l0, init["rnn.weight_hh_l0"])
    assert len(list((tmp_path / "cache" / "sentiment").glob("lm-*.safetensors"))) == 1
    assert torch.equal(training_data(r, str(sst2_dir))[3]["embed.weight"], init["embed.weight"])
