"""Baselines printed beside every model's figures, so a number has a yardstick."""
from __future__ import annotations

import numpy as np


def tfidf_logreg(train_texts, train_labels, eval_texts, eval_labels) -> dict:
    """scikit-learn TF-IDF (word 1-2 grams, same tokenizer as the RNN) + logistic regression.

    Returns:
        {"accuracy": ..., "name": ...} on the evaluation texts.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from .encoders.text import tokenize

    vec = TfidfVectorizer(tokenizer=tokenize, lowercase=True, ngram_range=(1, 2),
                          min_df=1, sublinear_tf=True, token_pattern=None)
    x_train = vec.fit_transform(train_texts)
    clf = LogisticRegression(C=4.0, max_iter=2000)
    clf.fit(x_train, train_labels)
    pred = clf.predict(vec.transform(eval_texts))
    return {"name": "TF-IDF (1-2 grams) + logistic regression",
            "accuracy": float(np.mean(pred == np.asarray(eval_labels)))}


def char_ngram(train_text: str, eval_text: str, max_order: int = 7) -> dict:
    """Character n-gram language models with interpolated Witten-Bell smoothing.

    Every order from 1 to ``max_order`` is scored in one pass over ``eval_text``
    (each order's estimate backs off to the one below it, down to a uniform
    distribution over the training characters); the best order is reported, as the
    classic baseline for character-level models.

    Returns:
        {"name", "order", "val_nats_per_char", "by_order": {order: nats}}
    """
    import math
    from collections import Counter

    vocab = sorted(set(train_text))
    grams = [Counter(train_text[i:i + n] for i in range(len(train_text) - n + 1))
             for n in range(1, max_order + 1)]
    # per context (the n-1 characters before): total count and number of distinct followers
    totals, types = [], []
    for n, g in enumerate(grams, start=1):
        tot, typ = Counter(), Counter()
        for k, c in g.items():
            tot[k[:-1]] += c
            typ[k[:-1]] += 1
        totals.append(tot)
        types.append(typ)
    nll = [0.0] * max_order
    count = 0
    for i, ch in enumerate(eval_text):
        if ch not in vocab:
            continue  # no model can score a character it has no id for; skip it everywhere
        p = 1.0 / len(vocab)
        for n in range(1, max_order + 1):
            if i < n - 1:  # not enough history: this order repeats the one below
                nll[n - 1] -= math.log(p)
                continue
            ctx = eval_text[i - n + 1:i]
            tot = totals[n - 1].get(ctx, 0)
            if tot:
                t = types[n - 1][ctx]
                p = (grams[n - 1].get(ctx + ch, 0) + t * p) / (tot + t)
            nll[n - 1] -= math.log(p)
        count += 1
    by_order = {n + 1: nll[n] / count for n in range(max_order)}
    best = min(by_order, key=by_order.get)
    return {"name": f"character {best}-gram, interpolated Witten-Bell smoothing (order chosen on this split)",
            "order": best, "val_nats_per_char": by_order[best], "by_order": by_order}
