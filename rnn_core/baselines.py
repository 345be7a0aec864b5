"""Baselines printed beside every model's figures, so a number has a yardstick."""
from __future__ import annotations

import math

import numpy as np


class TfidfBaseline:
    """scikit-learn TF-IDF (word 1-2 grams, the RNN's tokenizer) + logistic regression:
    the bag of words every sentiment figure stands beside, and the tab's second opinion.

    Saved as two files beside the network (``tfidf.json``: vocabulary and settings;
    ``tfidf.safetensors``: idf weights and coefficients), so the tab answers without
    refitting; loading puts them back into the same scikit-learn objects.
    """

    FILES = ("tfidf.json", "tfidf.safetensors")

    def __init__(self, vectorizer, classifier, data: str = ""):
        self.vectorizer, self.classifier, self.data = vectorizer, classifier, data

    @staticmethod
    def _vectorizer(**kw):
        from sklearn.feature_extraction.text import TfidfVectorizer

        return TfidfVectorizer(tokenizer=_vocabulary_tokens, lowercase=False, ngram_range=(1, 2),
                               min_df=1, sublinear_tf=True, token_pattern=None, **kw)

    @classmethod
    def fit(cls, texts, labels, data: str = "") -> "TfidfBaseline":
        """Fit on ``texts`` and ``labels`` (1 = positive); ``data`` says what they are."""
        from sklearn.linear_model import LogisticRegression

        vec = cls._vectorizer()
        clf = LogisticRegression(C=4.0, max_iter=2000)
        clf.fit(vec.fit_transform(list(texts)), list(labels))
        return cls(vec, clf, data)

    def p_positive(self, texts) -> "np.ndarray":
        """P(positive) of each text."""
        return self.classifier.predict_proba(self.vectorizer.transform(list(texts)))[:, 1]

    def __call__(self, texts) -> "np.ndarray":
        """The predicted label (1 = positive) of each text."""
        return (self.p_positive(texts) >= 0.5).astype(int)

    def save(self, folder) -> None:
        """Write `FILES` into ``folder``."""
        import json
        from pathlib import Path

        from safetensors.numpy import save_file

        folder = Path(folder)
        vocab = sorted(self.vectorizer.vocabulary_, key=self.vectorizer.vocabulary_.get)
        (folder / self.FILES[0]).write_text(json.dumps({"name": TFIDF_NAME, "data": self.data, "vocab": vocab}))
        save_file({"idf": self.vectorizer.idf_.astype(np.float32),
                   "coef": self.classifier.coef_[0].astype(np.float32),
                   "intercept": self.classifier.intercept_.astype(np.float32)}, str(folder / self.FILES[1]))

    @classmethod
    def load(cls, folder) -> "TfidfBaseline":
        """The baseline `save` wrote into ``folder``."""
        import json
        from pathlib import Path

        from safetensors.numpy import load_file
        from sklearn.linear_model import LogisticRegression

        folder = Path(folder)
        meta = json.loads((folder / cls.FILES[0]).read_text())
        arrays = load_file(str(folder / cls.FILES[1]))
        vec = cls._vectorizer(vocabulary=meta["vocab"])
        vec.idf_ = arrays["idf"].astype(np.float64)
        clf = LogisticRegression()
        clf.coef_, clf.intercept_ = arrays["coef"][None].astype(np.float64), arrays["intercept"].astype(np.float64)
        clf.classes_ = np.array([0, 1])
        return cls(vec, clf, meta.get("data", ""))


def _vocabulary_tokens(text: str) -> list[str]:
    """The RNN's tokens in the form its vocabulary keeps them (`normalize`)."""
    from .encoders.text import normalize, tokenize

    return [normalize(t) for t in tokenize(text)]


TFIDF_NAME = "TF-IDF (1-2 grams) + logistic regression"


class NGram:
    """N-gram language models of every order up to ``max_order``, with interpolated
    Witten-Bell smoothing: each order's estimate backs off to the one below, down to
    a uniform distribution over the training symbols.

    Sequences are strings: characters for text, and one character per token id for
    anything else (`symbols`), which keeps the count tables compact.
    """

    def __init__(self, sequences: list[str], max_order: int = 7):
        from collections import Counter

        self.max_order = max_order
        self.vocab = sorted(set().union(*map(set, sequences)))
        self.grams = [Counter() for _ in range(max_order)]
        for seq in sequences:  # n-grams never cross from one sequence into the next
            for n, g in enumerate(self.grams, start=1):
                g.update(seq[i:i + n] for i in range(len(seq) - n + 1))
        # per context (the n-1 symbols before): total count and number of distinct followers
        self.totals, self.types = [], []
        for g in self.grams:
            tot, typ = Counter(), Counter()
            for k, c in g.items():
                tot[k[:-1]] += c
                typ[k[:-1]] += 1
            self.totals.append(tot)
            self.types.append(typ)

    def nll_by_order(self, sequences: list[str], start: int = 0) -> tuple[dict[int, float], int]:
        """Mean negative log-likelihood (nats) per symbol of each order, scoring
        positions from ``start`` of every sequence; symbols never seen in training
        are skipped (no model has an id for them). Returns ({order: nats}, count)."""
        vocab = set(self.vocab)
        nll, count = [0.0] * self.max_order, 0
        for seq in sequences:
            for i in range(start, len(seq)):
                if seq[i] not in vocab:
                    continue
                p = 1.0 / len(vocab)
                for n in range(1, self.max_order + 1):
                    if i >= n - 1:  # else not enough history: this order repeats the one below
                        ctx = seq[i - n + 1:i]
                        tot = self.totals[n - 1].get(ctx, 0)
                        if tot:
                            t = self.types[n - 1][ctx]
                            p = (self.grams[n - 1].get(ctx + seq[i], 0) + t * p) / (tot + t)
                    nll[n - 1] -= math.log(p)
                count += 1
        return {n + 1: nll[n] / max(count, 1) for n in range(self.max_order)}, count

    def distribution(self, history: str, order: int) -> np.ndarray:
        """P(next symbol | history) over ``vocab`` under the ``order``-gram model."""
        p = np.full(len(self.vocab), 1.0 / len(self.vocab))
        for n in range(1, min(order, len(history) + 1) + 1):
            ctx = history[len(history) - n + 1:] if n > 1 else ""
            tot = self.totals[n - 1].get(ctx, 0)
            if tot:
                t = self.types[n - 1][ctx]
                counts = np.array([self.grams[n - 1].get(ctx + c, 0) for c in self.vocab], dtype=float)
                p = (counts + t * p) / (tot + t)
        return p


def symbols(ids) -> str:
    """Token ids as a string, one character each (for `NGram`)."""
    return "".join(chr(0x100 + int(i)) for i in ids)


def char_ngram(train_text: str, eval_text: str, max_order: int = 7) -> dict:
    """The classic baseline for character-level models: `NGram` of orders 1 to
    ``max_order`` fitted on ``train_text``, the best order on ``eval_text`` reported.

    Returns:
        {"name", "order", "val_nats_per_char", "by_order": {order: nats}}
    """
    by_order, _ = NGram([train_text], max_order).nll_by_order([eval_text])
    best = min(by_order, key=by_order.get)
    return {"name": f"character {best}-gram, interpolated Witten-Bell smoothing (order chosen on this split)",
            "order": best, "val_nats_per_char": by_order[best], "by_order": by_order}


def mfcc_stats(wave: np.ndarray, sr: int = 8000, n_mfcc: int = 13) -> np.ndarray:
    """A clip as one fixed-size vector: mean and standard deviation over time of its
    MFCCs, their deltas and delta-deltas (6 * ``n_mfcc`` numbers). The order of
    sounds is lost, which is what the RNN is there to keep."""
    import librosa

    mfcc = librosa.feature.mfcc(y=np.asarray(wave, dtype=np.float32), sr=sr, n_mfcc=n_mfcc,
                                n_fft=256, hop_length=sr // 100, n_mels=40, fmax=sr / 2)
    # "nearest" rather than the default "interp", which needs at least 9 frames
    frames = np.concatenate([mfcc, librosa.feature.delta(mfcc, mode="nearest"),
                             librosa.feature.delta(mfcc, order=2, mode="nearest")])
    return np.concatenate([frames.mean(axis=1), frames.std(axis=1)])


def mfcc_svm(train_waves, train_labels, eval_waves, eval_labels, sr: int = 8000) -> dict:
    """The classic spoken-digit baseline: `mfcc_stats` standardised, then an RBF SVM.

    Returns:
        {"name", "digit_accuracy"} on the evaluation clips.
    """
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    clf = make_pipeline(StandardScaler(), SVC(C=10.0, gamma="scale"))
    clf.fit(np.stack([mfcc_stats(w, sr) for w in train_waves]), np.asarray(train_labels))
    pred = clf.predict(np.stack([mfcc_stats(w, sr) for w in eval_waves]))
    return {"name": "MFCC + delta statistics (mean, std), standardised, RBF SVM",
            "digit_accuracy": float(np.mean(pred == np.asarray(eval_labels)))}


class RetrievalTranslator:
    """Translation by lookup: the French of the training English sentence most like
    the given one (cosine of TF-IDF over character 2-4-grams), the translation
    baseline every figure of the translation tab stands beside."""

    def __init__(self, pairs: list[tuple[str, str]]):
        from sklearn.feature_extraction.text import TfidfVectorizer

        firsts: dict[str, str] = {}
        for en, fr in pairs:
            firsts.setdefault(en, fr)  # one French per English sentence: the first
        self.english, self.french = list(firsts), list(firsts.values())
        self.vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), lowercase=True, sublinear_tf=True)
        self.matrix = self.vectorizer.fit_transform(self.english)

    def translate(self, sentences: list[str], chunk: int = 512) -> list[str]:
        """The retrieved French for each English sentence."""
        out = []
        for k in range(0, len(sentences), chunk):
            sims = self.vectorizer.transform(sentences[k:k + chunk]) @ self.matrix.T
            out += [self.french[int(i)] for i in np.asarray(sims.argmax(axis=1)).ravel()]
        return out
