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
